"""``collect``: unreferenced blobs leave the store (local folder and S3), referenced and young
ones stay, the remote's refs count, temporaries and cache entries are swept."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pygit2
import pytest

from gittrack.errors import UsageError
from gittrack.storage.project import open_storage
from gittrack.sync.delete import delete_artifact
from gittrack.sync.gc import collect, parse_duration
from tests.helpers.repos import add_bare_remote, git, push_all
from tests.helpers.runs import marked_run
from tests.helpers.storage import store_names, use_store


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["local", "s3"])
def store_kind(request: pytest.FixtureRequest, repo: Path, tmp_path: Path) -> str:
    s3 = request.getfixturevalue("s3_url") if request.param == "s3" else None
    use_store(repo, request.param, tmp_path, s3)
    return str(request.param)


def two_artifacts(repo: Path) -> tuple[str, str]:
    (repo / "a.bin").write_bytes(b"alpha bytes")
    (repo / "b.bin").write_bytes(b"beta bytes")
    marked_run(artifact=("a", repo / "a.bin"))
    marked_run(artifact=("b", repo / "b.bin"))
    return sha(b"alpha bytes"), sha(b"beta bytes")


def test_gc_removes_exactly_the_unreferenced_blobs(repo: Path, store_kind: str) -> None:
    a, b = two_artifacts(repo)
    r = pygit2.Repository(str(repo))
    assert store_names(repo) == {a, b}
    delete_artifact(r, "a")
    dry = collect(r, grace=0, dry_run=True)
    assert [x.name for x in dry.removed] == [a] and dry.size == len(b"alpha bytes")
    assert store_names(repo) == {a, b}
    report = collect(r, grace=0)
    assert [x.name for x in report.removed] == [a] and report.marked == 1
    assert store_names(repo) == {b}
    assert collect(r, grace=0).removed == ()


def test_the_grace_period_keeps_young_blobs(repo: Path) -> None:
    a, b = two_artifacts(repo)
    r = pygit2.Repository(str(repo))
    delete_artifact(r, "a")
    report = collect(r)  # default: a day
    assert (report.removed, report.young) == ((), 1)
    assert store_names(repo) == {a, b}
    assert [x.name for x in collect(r, now=time.time() + 2 * 86400).removed] == [a]


def test_blobs_the_remote_still_names_are_kept(repo: Path) -> None:
    add_bare_remote(repo)
    a, _ = two_artifacts(repo)
    push_all(repo)
    r = pygit2.Repository(str(repo))
    delete_artifact(r, "a")  # here only: the remote still has it
    report = collect(r, remote="origin", grace=0)
    assert report.removed == () and report.roots == ("local", "origin")
    git(repo, "push", "-q", "origin", ":refs/gittrack/artifacts/a")  # a teammate deletes it
    assert [x.name for x in collect(r, remote="origin", grace=0).removed] == [a]


def test_stale_temporaries_and_cache_entries_go(repo: Path) -> None:
    a, b = two_artifacts(repo)
    r = pygit2.Repository(str(repo))
    storage = open_storage(r)
    shard = Path(storage.store.root) / b[:2]
    stale = shard / f"{b[2:]}.tmp-0123"
    stale.write_bytes(b"half")
    fresh = shard / f"{b[2:]}.tmp-4567"
    fresh.write_bytes(b"in flight")
    old = time.time() - 3 * 86400
    os.utime(stale, (old, old))
    for digest in (a, b):
        storage.cache.add(repo / ("a.bin" if digest == a else "b.bin"), digest)
    delete_artifact(r, "a")
    report = collect(r)
    assert (report.temps, report.cache) == (1, 1)
    assert not stale.exists() and fresh.exists()
    assert not storage.cache.has(a) and storage.cache.has(b)


def test_durations() -> None:
    assert [parse_duration(t) for t in ("30m", "12h", "7d", "0", "90s", "1.5h", "2w")] == [
        1800, 43200, 604800, 0, 90, 5400, 1209600]
    with pytest.raises(UsageError):
        parse_duration("soon")


def test_gc_forgets_the_source_paths_of_collected_blobs(repo: Path, tmp_path: Path) -> None:
    use_store(repo, "local", tmp_path, None)
    for name in ("a.bin", "b.bin"):
        (repo / name).write_bytes(name.encode())
        os.utime(repo / name, (time.time() - 3600,) * 2)  # old enough for the stat cache
    marked_run(artifact=("a", repo / "a.bin"))
    marked_run(artifact=("b", repo / "b.bin"))
    r = pygit2.Repository(str(repo))
    stat = open_storage(r).stat_cache
    assert stat.digests() == {sha(b"a.bin"), sha(b"b.bin")}
    delete_artifact(r, "a")
    collect(r, grace=0, dry_run=True)
    assert stat.digests() == {sha(b"a.bin"), sha(b"b.bin")}  # a dry run changes nothing
    collect(r, grace=0)
    assert stat.digests() == {sha(b"b.bin")}
    raw = b"".join(p.read_bytes() for p in stat.path.parent.glob("stat.sqlite*"))
    assert str(repo / "a.bin").encode() not in raw and str(repo / "b.bin").encode() in raw
