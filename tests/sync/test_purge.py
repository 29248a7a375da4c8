"""The purge proof: afterwards no object in the local repository, in the bare remote after its
own gc, or in the store holds the purged run's unique content; everything else is intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pygit2
import pytest

from gittrack.runs.resolve import resolve_run
from gittrack.sync.purge import plan, purge
from tests.conftest import git
from tests.sync.deletion import (
    add_bare_remote,
    make_run,
    marker,
    objects_containing,
    push_all,
    store_names,
    use_store,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("where", ["local", "s3"])
def test_purge_leaves_no_trace_here_there_or_in_the_store(
    repo: Path, tmp_path: Path, where: str, request: pytest.FixtureRequest,
) -> None:
    url = use_store(repo, where, tmp_path,
                    request.getfixturevalue("s3_url") if where == "s3" else None)
    bare = add_bare_remote(repo)
    mark, other_mark = marker(), marker()
    secret = f"weights {mark}".encode()
    (repo / "w.bin").write_bytes(secret)
    (repo / "shared.bin").write_bytes(b"shared dataset")
    shared_run = make_run(other_mark, artifact=("shared", repo / "shared.bin"))
    victim = make_run(mark, artifact=("model", repo / "w.bin"), use="shared:v0")
    push_all(repo)
    git(repo, "fetch", "-q", "origin", "+refs/gittrack/*:refs/gittrack-remotes/origin/*")
    git(repo, "gc", "-q")  # some objects packed, as in a real clone
    assert objects_containing(repo, mark) > 0 and objects_containing(bare, mark) > 0
    assert sha(secret) in store_names(repo)

    r = pygit2.Repository(str(repo))
    report = purge(r, resolve_run(r, victim), remote="origin")

    assert report.plan.artifacts == ("model",) and report.blobs == (sha(secret),)
    assert objects_containing(repo, mark) == 0
    git(bare, "gc", "-q", "--prune=now")
    assert objects_containing(bare, mark) == 0
    assert sha(secret) not in store_names(repo)
    if where == "local":
        assert not any(mark.encode() in p.read_bytes()
                       for p in Path(url).rglob("*") if p.is_file())
    assert not any(mark.encode() in p.read_bytes()
                   for p in (repo / ".git" / "gittrack").rglob("*") if p.is_file())
    # everything else is intact, here and there
    assert objects_containing(repo, other_mark) > 0 and objects_containing(bare, other_mark) > 0
    assert sha(b"shared dataset") in store_names(repo)
    for where_ in (repo, bare):
        names = git(where_, "for-each-ref", "--format=%(refname)", "refs/gittrack/").split()
        assert names == ["refs/gittrack/artifacts/shared", f"refs/gittrack/runs/{shared_run}"]
    git(repo, "fsck", "--no-dangling")


def test_purge_keeps_versions_other_runs_use(repo: Path) -> None:
    (repo / "w.bin").write_bytes(b"model weights")
    producer = make_run(artifact=("model", repo / "w.bin"))
    make_run(use="model:v0")
    r = pygit2.Repository(str(repo))
    what = plan(r, resolve_run(r, producer))
    assert what.artifacts == () and what.kept == ("model:v0 (used or logged by another run)",)
    report = purge(r, resolve_run(r, producer), remote=None)
    assert report.blobs == () and sha(b"model weights") in store_names(repo)
    assert "refs/gittrack/artifacts/model" in git(repo, "for-each-ref")
