"""The purge proof: afterwards no object in the local repository, in the bare remote after its
own gc, or in the store holds the purged run's unique content; everything else is intact."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
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


def _raw_cache_bytes(repo: Path, name: str) -> bytes:
    """A sqlite cache file as it lies on disk, with its WAL: deleted rows included."""
    folder = repo / ".git" / "gittrack" / "cache"
    return b"".join(p.read_bytes() for p in folder.glob(f"{name}*") if p.is_file())


def test_purge_leaves_no_source_path_or_digest_in_the_caches(repo: Path, tmp_path: Path) -> None:
    use_store(repo, "local", tmp_path, None)
    folder = repo / f"secret-dataset-{marker()}"
    folder.mkdir()
    weights = folder / "weights.bin"
    weights.write_bytes(f"weights {marker()}".encode())
    (repo / "kept.bin").write_bytes(b"kept")
    for path in (weights, repo / "kept.bin"):  # not "racily clean": the stat cache keeps them
        os.utime(path, (time.time() - 3600,) * 2)
    make_run(artifact=("kept", repo / "kept.bin"))
    victim = make_run(artifact=("model", weights))
    digest = sha(weights.read_bytes())
    stat_file = repo / ".git" / "gittrack" / "cache" / "stat.sqlite"
    with sqlite3.connect(stat_file) as db:
        assert digest in {row[0] for row in db.execute("SELECT digest FROM stat")}
    assert str(folder).encode() in _raw_cache_bytes(repo, "stat.sqlite")

    r = pygit2.Repository(str(repo))
    purge(r, resolve_run(r, victim), remote=None)

    with sqlite3.connect(stat_file) as db:
        rows = list(db.execute("SELECT path, digest FROM stat"))
    assert rows and not any(digest == d or str(folder) in p for p, d in rows)
    for name in ("stat.sqlite", "presence.sqlite"):
        raw = _raw_cache_bytes(repo, name)
        assert str(folder).encode() not in raw and digest.encode() not in raw, name
    assert sha(b"kept").encode() in _raw_cache_bytes(repo, "stat.sqlite")
