"""The purge proof: afterwards no object in the local repository, in the bare remote after its
own gc, or in the store holds the purged run's unique content; everything else is intact."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pygit2
import pytest

import gittrack
from gittrack.runs.resolve import resolve_run
from gittrack.sync.purge import plan, purge
from tests.helpers.repos import MakeClone, add_bare_remote, git, objects_containing, push_all
from tests.helpers.runs import make_run, marked_run, marker
from tests.helpers.storage import share_storage, store_names, use_store


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
    shared_run = marked_run(other_mark, artifact=("shared", repo / "shared.bin"))
    victim = marked_run(mark, artifact=("model", repo / "w.bin"), use="shared:v0")
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
    head = git(repo, "rev-parse", "HEAD").strip()
    for where_ in (repo, bare):
        names = git(where_, "for-each-ref", "--format=%(refname)", "refs/gittrack/").split()
        assert names == ["refs/gittrack/artifacts/shared", f"refs/gittrack/code/{head}",
                         f"refs/gittrack/runs/{shared_run}"]  # the kept run's code ref too
    git(repo, "fsck", "--no-dangling")


def test_purge_keeps_versions_other_runs_use(repo: Path) -> None:
    (repo / "w.bin").write_bytes(b"model weights")
    producer = marked_run(artifact=("model", repo / "w.bin"))
    marked_run(use="model:v0")
    r = pygit2.Repository(str(repo))
    what = plan(r, resolve_run(r, producer))
    assert what.artifacts == () and what.kept == ("model:v0 (used or logged by another run)",)
    report = purge(r, resolve_run(r, producer), remote=None)
    assert report.blobs == () and sha(b"model weights") in store_names(repo)
    assert "refs/gittrack/artifacts/model" in git(repo, "for-each-ref")


def test_purge_keeps_a_renumbered_version_another_run_used(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path, cli: Any,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object]) -> None:
    """Bob's run uses his `model:v0`; his pull renumbers it `model:v1` (Alice made a v0), and
    Alice's removal of her v0 leaves his version the only one. Its label is gone, its commit
    is not: purging the run that made it keeps it (by label, it was purged)."""
    def ok(result: Any) -> str:
        assert result.exit_code == 0, result.stderr + result.stdout
        return str(result.stdout)

    def log_model(clone: Path, content: str) -> str:
        (clone / "model.bin").write_text(content)
        return make_run([], repo=str(clone), settings=fast_settings,
                        artifact=("model", clone / "model.bin")).id

    alice = make_clone("alice", str(bare_remote))
    share_storage(alice, str(tmp_path / "store"))
    log_model(alice, "alice weights")
    monkeypatch.chdir(alice)
    ok(cli("push"))
    bob = make_clone("bob", str(bare_remote))
    producer = log_model(bob, "bob weights")  # before pulling: his own model:v0
    user = make_run([], repo=str(bob), settings=fast_settings, use="model:v0").id
    monkeypatch.chdir(bob)
    ok(cli("pull"))  # his version on top of Alice's, renumbered
    ok(cli("push"))
    monkeypatch.chdir(alice)
    ok(cli("pull"))
    ok(cli("artifact", "rm", "model:v0", "--remote", "origin", "--yes"))
    monkeypatch.chdir(bob)
    ok(cli("pull"))
    r = pygit2.Repository(str(bob))
    assert [v.producer for v in gittrack.Api(str(bob)).artifacts("model")] == [producer]
    assert resolve_run(r, user).metadata["artifacts"]["used"] == ["model:v0"]

    what = plan(r, resolve_run(r, producer))
    assert what.artifacts == () and what.kept == ("model:v1 (used or logged by another run)",)
    ok(cli("purge", "--yes", producer))
    assert "refs/gittrack/artifacts/model" in git(bob, "for-each-ref")
    got = gittrack.Api(str(bob)).artifact("model:v1").download(str(tmp_path / "got"))
    assert (Path(got) / "model.bin").read_text() == "bob weights"  # its blob stayed too


def test_an_unreadable_version_stops_purge_before_anything_is_deleted(
        repo: Path, cli: Any) -> None:
    """What a manifest that is not Parquet names cannot be known: purge refuses up front
    (run, artifact and blob all kept) and names the way out; once it is removed, purge works."""
    from tests.helpers.hostile import forge

    (repo / "w.bin").write_bytes(b"model weights")
    producer = marked_run(artifact=("model", repo / "w.bin"))
    forge(repo, "refs/gittrack/artifacts/junk", {"artifact.yaml": b"name: junk\n",
                                                  "manifest.parquet": b"PAR1 junk PAR1"})
    refused = cli("purge", "--yes", producer)
    assert refused.exit_code == 6 and "artifact rm" in refused.stderr, refused.stderr
    assert producer in git(repo, "for-each-ref", "refs/gittrack/runs/")
    assert sha(b"model weights") in store_names(repo)
    assert not list((repo / ".git" / "gittrack" / "purges").glob("*.json"))
    assert cli("artifact", "rm", "--yes", "junk").exit_code == 0
    assert cli("purge", "--yes", producer).exit_code == 0
    assert sha(b"model weights") not in store_names(repo)


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
    marked_run(artifact=("kept", repo / "kept.bin"))
    victim = marked_run(artifact=("model", weights))
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


def _into_local_cache(repo: Path, artifact: str) -> None:
    from gittrack.artifacts import versions
    from gittrack.storage.project import open_storage
    from gittrack.storage.reachability import stored_files

    r = pygit2.Repository(str(repo))
    storage = open_storage(r)
    for entry in stored_files(r, [versions.head(r, artifact)]):
        storage.cached(entry)


def _purge_killed_at(repo: Path, run_id: str, point: str) -> None:
    """``gittrack purge`` in a child process that SIGKILLs itself at fault point ``point``
    (``GITTRACK_FAULT``, ``gittrack/git/faults.py``)."""
    env = {**os.environ, "GITTRACK_FAULT": point}
    done = subprocess.run([sys.executable, "-m", "gittrack", "purge", "--yes", run_id],
                          cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize(("point", "again"), [
    ("purge.refs-deleted", ["purge", "{run}"]),
    ("purge.refs-deleted", ["purge"]),
    ("purge.refs-deleted", ["gc"]),
    ("purge.blob-deleted", ["purge", "--yes", "{other}"]),
    ("purge.journal-written", ["purge"]),
])
def test_an_interrupted_purge_is_finished_by_the_next_purge_or_gc(
        repo: Path, tmp_path: Path, cli: Any, point: str, again: list[str]) -> None:
    url = use_store(repo, "local", tmp_path, None)
    bare = add_bare_remote(repo)
    mark = marker()
    (repo / "w0.bin").write_bytes(f"weights 0 {mark}".encode())
    (repo / "w1.bin").write_bytes(b"weights 1")
    victim = marked_run(mark, artifact=("model", repo / "w0.bin"))
    other = marked_run(artifact=("other", repo / "w1.bin"))
    push_all(repo)
    blob = sha(f"weights 0 {mark}".encode())
    cache = repo / ".git" / "gittrack" / "cache" / "blobs" / blob[:2] / blob[2:]
    _into_local_cache(repo, "model")  # as a download from a remote store leaves it
    assert cache.exists() and blob in store_names(repo)

    _purge_killed_at(repo, victim, point)
    if point != "purge.journal-written":
        assert victim not in git(repo, "for-each-ref") + git(bare, "for-each-ref")
        assert blob in store_names(repo) or point == "purge.blob-deleted"

    args = [a.format(run=victim, other=other) for a in again]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    assert f"finished the interrupted purge of run {victim}" in result.stdout
    assert blob not in store_names(repo) and not cache.exists()
    assert not any(mark.encode() in p.read_bytes() for p in Path(url).rglob("*") if p.is_file())
    assert not any(mark.encode() in p.read_bytes()
                   for p in (repo / ".git" / "gittrack").rglob("*") if p.is_file())
    assert objects_containing(repo, mark) == 0
    assert victim not in git(repo, "for-each-ref") and victim not in git(bare, "for-each-ref")
    assert "interrupted" not in cli(*args).stdout  # said once: the journal is gone
    git(repo, "fsck", "--no-dangling")


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_a_purge_never_loses_a_blob_a_teammates_unpushed_version_shares(
        backend: str, bare_remote: Path, make_clone: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any,
        request: pytest.FixtureRequest) -> None:
    """B logs a file identical to one of A's run (stored once: not uploaded again); A purges
    its run, which removes the blob. B still reads its version, and B's push uploads the
    bytes again, so a fresh clone gets B's version whole."""
    from tests.helpers.runs import log_run
    from tests.helpers.storage import share_backend

    a = make_clone("a", str(bare_remote))
    share_backend(a, backend, tmp_path, lambda: request.getfixturevalue("s3_url"))
    data = f"shared bytes {marker()}\n"
    victim = log_run(a, fast_settings, data=data, name="model")
    monkeypatch.chdir(a)
    assert cli("push").exit_code == 0
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0
    log_run(b, fast_settings, data=data, name="mine")  # same bytes: the store has them

    monkeypatch.chdir(a)
    result = cli("purge", "--yes", victim)
    assert result.exit_code == 0 and "removed 1 blob(s)" in result.stdout, result.stderr

    monkeypatch.chdir(b)
    result = cli("artifact", "get", "mine", "-o", str(tmp_path / "b-got"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "b-got" / "mine.csv").read_text() == data
    assert cli("pull").exit_code == 0  # takes the purge: A's run goes here too
    result = cli("push")
    assert result.exit_code == 0, result.stderr + result.stdout
    assert "uploaded 1 blob(s)" in result.stdout
    fresh = make_clone("fresh", str(bare_remote))
    monkeypatch.chdir(fresh)
    assert cli("pull").exit_code == 0
    result = cli("artifact", "get", "mine", "-o", str(tmp_path / "fresh-got"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "fresh-got" / "mine.csv").read_text() == data


def test_a_purge_refused_before_deleting_leaves_nothing_to_finish(repo: Path, tmp_path: Path,
                                                                   cli: Any) -> None:
    use_store(repo, "local", tmp_path, None)
    bare = add_bare_remote(repo)
    run = marked_run()
    push_all(repo)
    git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))  # unreachable now
    assert cli("purge", "--yes", run).exit_code == 10
    assert cli("purge", "--yes", "--remote", "nosuchremote", run).exit_code == 2
    assert run in git(repo, "for-each-ref") and run in git(bare, "for-each-ref")
    assert not list((repo / ".git" / "gittrack" / "purges").glob("*.json"))
    git(repo, "remote", "set-url", "origin", str(bare))
    result = cli("gc")  # nothing pending: gc does not try the purge again
    assert result.exit_code == 0 and "interrupted" not in result.stdout
    assert run in git(repo, "for-each-ref")


def _unreadable_runs(repo: Path) -> list[str]:
    """Runs no reader accepts: a missing object, YAML anchors, an oversize run.yaml, an id
    nested below another (forged by a remote)."""
    from tests.helpers.hostile import forge, plumb, write_tree

    runs = []
    missing_blob = "1" * 40
    tree = plumb(repo, "mktree", "--missing",
                  data=f"100644 blob {missing_blob}\trun.yaml\n".encode())
    commit = plumb(repo, "commit-tree", tree, "-m", "missing object")
    plumb(repo, "update-ref", "refs/gittrack/runs/missing-object", commit)
    runs.append("missing-object")
    forge(repo, "refs/gittrack/runs/anchors",
          {"run.yaml": b"format: 1\nid: anchors\nname: &a x\nnotes: *a\n"})
    runs.append("anchors")
    forge(repo, "refs/gittrack/runs/oversize",
          {"run.yaml": b"format: 1\nid: oversize\nnotes: '" + b"x" * (17 << 20) + b"'\n"})
    runs.append("oversize")
    assert write_tree
    return runs


@pytest.mark.parametrize("command", ["rm", "purge"])
def test_a_run_that_cannot_be_read_can_be_removed(repo: Path, cli: Any, command: str) -> None:
    good = marked_run()
    for run_id in _unreadable_runs(repo):
        result = cli(command, "--yes", run_id)
        assert result.exit_code == 0, (run_id, result.stderr)
        assert f"refs/gittrack/runs/{run_id}\n" not in git(
            repo, "for-each-ref", "--format=%(refname)", "refs/gittrack/runs/") + "\n"
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/gittrack/runs/").split() == [
        f"refs/gittrack/runs/{good}"]


def test_purge_of_a_forged_nested_id_writes_its_journal_inside(repo: Path, cli: Any) -> None:
    from tests.helpers.hostile import forge

    forge(repo, "refs/gittrack/runs/nested/x", {"run.yaml": b"format: 1\nid: nested/x\n"})
    result = cli("purge", "--yes", "nested/x")
    assert result.exit_code == 0, result.stderr
    assert "nested" not in git(repo, "for-each-ref", "refs/gittrack/runs/")


def test_a_forged_artifact_naming_the_run_as_producer_does_not_stop_purge(
        repo: Path, cli: Any) -> None:
    from tests.helpers.hostile import forge, manifest

    (repo / "w.bin").write_bytes(b"model weights")
    producer = marked_run(artifact=("model", repo / "w.bin"))
    from tests.helpers.hostile import tree_of

    spec = tree_of(repo, "refs/gittrack/artifacts/model")
    assert isinstance(spec["artifact.yaml"], bytes)
    spec["artifact.yaml"] = spec["artifact.yaml"].replace(b"name: model", b"name: evil")
    spec["manifest.parquet"] = manifest(["a.txt"], "0" * 64, 3, "NOT-HEX")
    forge(repo, "refs/gittrack/artifacts/evil", spec)
    result = cli("purge", "--yes", producer)
    assert result.exit_code == 0, result.stderr
    assert sha(b"model weights") not in store_names(repo)
    assert "refs/gittrack/artifacts/evil" in git(repo, "for-each-ref")


def test_purge_of_a_run_with_a_remote_reference(repo: Path) -> None:
    """A remote reference's manifest row has its store's checksum (``fsspec:...``), not a
    digest: no cache entry to free for it (purge once asked the cache to remove it, and failed
    after the refs were gone)."""
    url = f"memory://purge-{uuid.uuid4().hex}/obj.bin"
    fsspec.filesystem("memory").pipe(url, b"in memory")
    (repo / "w.bin").write_bytes(b"stored weights")
    run = gittrack.init(project="p", settings={"quiet": True})
    art = gittrack.Artifact("mixed", type="dataset")
    art.add_file(str(repo / "w.bin"))
    art.add_reference(url)
    run.log_artifact(art)
    run.finish()
    r = pygit2.Repository(str(repo))
    report = purge(r, resolve_run(r, run.id), remote=None)
    assert report.plan.artifacts == ("mixed",) and report.blobs == (sha(b"stored weights"),)
