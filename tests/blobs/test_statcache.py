"""StatCache: a digest is returned only while the file's stat is exactly what was recorded."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies

from gittrack.blobs.statcache import StatCache
from tests.helpers.threads import in_threads

DIGEST = "ab" * 32
OTHER = "cd" * 32


def settled(path: Path, data: bytes = b"content", age: float = 10.0) -> os.stat_result:
    """Write ``path`` with an mtime ``age`` seconds ago: past the racy window."""
    path.write_bytes(data)
    past = time.time_ns() - int(age * 1e9)
    os.utime(path, ns=(past, past))
    return path.stat()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[StatCache]:
    cache = StatCache(tmp_path / "cache" / "stat.sqlite")
    yield cache
    cache.close()


def test_hit_after_record(cache: StatCache, tmp_path: Path):
    path = tmp_path / "f"
    st = settled(path)
    assert cache.lookup(path, st) is None
    cache.record(path, st, DIGEST)
    assert cache.lookup(path, path.stat()) == DIGEST
    cache.record(path, st, OTHER)  # a newer record replaces the old one
    assert cache.lookup(path, path.stat()) == OTHER


def test_relative_and_absolute_paths_are_one_entry(
    cache: StatCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    st = settled(tmp_path / "f")
    monkeypatch.chdir(tmp_path)
    cache.record(Path("f"), st, DIGEST)
    assert cache.lookup(tmp_path / "f", st) == DIGEST


@pytest.mark.parametrize("change", ["content", "mtime", "size", "replaced", "chmod"])
def test_any_change_is_a_miss(cache: StatCache, tmp_path: Path, change: str):
    path = tmp_path / "f"
    st = settled(path)
    cache.record(path, st, DIGEST)
    if change == "content":  # same size, new bytes, new mtime
        path.write_bytes(b"CONTENT")
    elif change == "mtime":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    elif change == "size":  # even with the old mtime put back
        path.write_bytes(b"content!")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "replaced":  # another inode with the same size and mtime
        (tmp_path / "g").write_bytes(b"CONTENT")
        os.utime(tmp_path / "g", ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp_path / "g", path)
    else:  # only the ctime moves
        time.sleep(0.01)
        path.chmod(0o600)
    assert cache.lookup(path, path.stat()) is None


def test_a_file_written_just_now_is_not_recorded(cache: StatCache, tmp_path: Path):
    # It could change again within the same timestamp tick and keep its stat ("racy git").
    # An mtime a little ahead of the clock is the same case, without timing in the test.
    path = tmp_path / "f"
    path.write_bytes(b"fresh")
    soon = time.time_ns() + 1_000_000_000
    os.utime(path, ns=(soon, soon))
    cache.record(path, path.stat(), DIGEST)
    assert cache.lookup(path, path.stat()) is None


def test_persists_in_a_wal_sqlite_file(tmp_path: Path):
    path = tmp_path / "f"
    st = settled(path)
    db = tmp_path / "cache" / "stat.sqlite"
    first = StatCache(db)
    first.record(path, st, DIGEST)
    first.close()
    second = StatCache(db)
    assert second.lookup(path, st) == DIGEST
    second.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_unwritable_location_is_a_no_op_cache(tmp_path: Path):
    # Root ignores permissions, so use a place no one can create: a folder under a file.
    (tmp_path / "file").write_text("")
    cache = StatCache(tmp_path / "file" / "stat.sqlite")
    st = settled(tmp_path / "f")
    cache.record(tmp_path / "f", st, DIGEST)
    assert cache.lookup(tmp_path / "f", st) is None
    cache.close()


def test_corrupt_file_is_replaced(tmp_path: Path):
    db = tmp_path / "stat.sqlite"
    db.write_bytes(b"this is not a database, but it is long enough to look like one" * 50)
    cache = StatCache(db)
    st = settled(tmp_path / "f")
    cache.record(tmp_path / "f", st, DIGEST)
    assert cache.lookup(tmp_path / "f", st) == DIGEST
    cache.close()


def test_huge_inode_numbers(cache: StatCache, tmp_path: Path):
    # Some filesystems (NFS, FUSE) hand out 64-bit unsigned inodes; sqlite's are signed.
    real = settled(tmp_path / "f")
    fields = list(real[:10])
    fields[1] = (1 << 64) - 5
    extra = {"st_mtime_ns": real.st_mtime_ns, "st_ctime_ns": real.st_ctime_ns}
    st = os.stat_result(fields, extra)
    cache.record(tmp_path / "f", st, DIGEST)
    assert cache.lookup(tmp_path / "f", st) == DIGEST


def test_shared_between_threads(cache: StatCache, tmp_path: Path):
    files = []
    for i in range(200):
        path = tmp_path / f"f{i}"
        files.append((path, settled(path, str(i).encode()), f"{i:064x}"))

    def work(part: int) -> None:
        for path, st, digest in files[part::8]:
            cache.record(path, st, digest)
            assert cache.lookup(path, st) == digest

    assert in_threads(work, range(8)) == []
    assert all(cache.lookup(path, st) == digest for path, st, digest in files)


def test_shared_between_processes(tmp_path: Path):
    code = """
import os, sys, time
from pathlib import Path
from gittrack.blobs.statcache import StatCache
me = sys.argv[1]
cache = StatCache(Path("stat.sqlite"))
for i in range(150):
    p = Path(f"{me}-{i}")
    p.write_bytes(b"x")
    past = time.time_ns() - 10**10
    os.utime(p, ns=(past, past))
    cache.record(p, p.stat(), f"{i:064x}")
cache.close()
"""
    procs = [subprocess.Popen([sys.executable, "-c", code, name], cwd=tmp_path) for name in "abcd"]
    assert [p.wait(timeout=60) for p in procs] == [0] * 4
    cache = StatCache(tmp_path / "stat.sqlite")
    for name in "abcd":
        for i in range(150):
            path = tmp_path / f"{name}-{i}"
            assert cache.lookup(path, path.stat()) == f"{i:064x}"
    cache.close()


# -- bulk: lookup_many / record_many ----------------------------------------------------------


def test_lookup_many_answers_in_order(cache: StatCache, tmp_path: Path):
    paths = [tmp_path / "d" / f"f{i}" for i in range(5)]
    (tmp_path / "d").mkdir()
    stats = [settled(p, str(i).encode()) for i, p in enumerate(paths)]
    cache.record_many([(paths[i], stats[i], f"{i:064x}") for i in (0, 2, 4)])
    items = [(p, p.stat()) for p in reversed(paths)] + [(paths[0], stats[0])]  # and a repeat
    assert cache.lookup_many(items) == [f"{4:064x}", None, f"{2:064x}", None, f"{0:064x}",
                                        f"{0:064x}"]
    assert cache.lookup_many([]) == []


def test_record_many_is_one_transaction_and_skips_racy_files(cache: StatCache, tmp_path: Path):
    old = settled(tmp_path / "old")
    (tmp_path / "new").write_bytes(b"fresh")
    new = (tmp_path / "new").stat()
    cache.record_many([(tmp_path / "old", old, DIGEST), (tmp_path / "new", new, OTHER)])
    assert cache.lookup_many([(tmp_path / "old", old), (tmp_path / "new", new)]) == [DIGEST, None]


def test_racy_against_the_time_the_stat_was_taken(cache: StatCache, tmp_path: Path):
    # Recorded later (after hashing) or not, a file modified just before its stat was taken
    # could change again within the same timestamp tick: it is not kept.
    path = tmp_path / "f"
    st = settled(path, age=10.0)
    cache.record_many([(path, st, DIGEST)], stat_time_ns=st.st_mtime_ns + 1_000_000)
    assert cache.lookup(path, st) is None
    cache.record_many([(path, st, DIGEST)], stat_time_ns=st.st_mtime_ns + 10**9)
    assert cache.lookup(path, st) == DIGEST


def test_lookup_many_across_folders_and_beyond_the_scan_limit(cache: StatCache, tmp_path: Path):
    # Many more entries under the common folder than asked for: looked up by key instead.
    rows = []
    for i in range(120):
        path = tmp_path / "big" / f"{i % 7}" / f"f{i}"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.append((path, settled(path, str(i).encode()), f"{i:064x}"))
    cache.record_many(rows)
    asked = [rows[5], rows[99]]
    assert cache.lookup_many([(p, st) for p, st, _ in asked]) == [d for _, _, d in asked]
    outside = tmp_path / "elsewhere"
    st = settled(outside)
    assert cache.lookup_many([(rows[0][0], rows[0][1]), (outside, st)]) == [rows[0][2], None]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=strategies.lists(
    strategies.tuples(strategies.sampled_from(["", "a/", "a/b/", "c/"]),
                      strategies.sampled_from(["record", "skip", "touch", "grow"])),
    min_size=1, max_size=12))
def test_lookup_many_matches_lookup_one_by_one(tmp_path_factory: pytest.TempPathFactory,
                                               layout: list[tuple[str, str]]):
    root = tmp_path_factory.mktemp("bulk")
    cache = StatCache(root / "stat.sqlite")
    items, expected = [], []
    for i, (folder, fate) in enumerate(layout):
        path = root / "data" / folder / f"f{i}"
        path.parent.mkdir(parents=True, exist_ok=True)
        st = settled(path, b"x" * i)
        if fate != "skip":
            cache.record(path, st, f"{i:064x}")
        if fate == "touch":
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
        elif fate == "grow":
            settled(path, b"y" * (i + 1))
        items.append((path, path.stat()))
        expected.append(f"{i:064x}" if fate == "record" else None)
    assert cache.lookup_many(items) == expected == [cache.lookup(p, s) for p, s in items]
    cache.close()


def test_paths_that_are_not_utf8_are_kept_as_bytes(cache: StatCache, tmp_path: Path):
    """``os.fsdecode`` of a latin-1 name holds lone surrogates, which sqlite cannot bind (every
    add_dir in a repository under such a folder raised UnicodeEncodeError): kept as bytes."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/lat\xe9"))
    folder.mkdir()
    mixed = [folder / "a", tmp_path / "b", Path(os.fsdecode(os.fsencode(tmp_path) + b"/c\xff"))]
    stats = [settled(path) for path in mixed]
    assert cache.lookup_many(list(zip(mixed, stats, strict=True))) == [None, None, None]
    cache.record_many([(path, st, DIGEST) for path, st in zip(mixed, stats, strict=True)])
    assert cache.lookup_many(list(zip(mixed, stats, strict=True))) == [DIGEST] * 3
    assert cache.lookup(folder / "a", stats[0]) == DIGEST
    assert sorted(cache.sources(DIGEST)) == sorted(mixed)
    assert cache.forget_digests([DIGEST]) and cache.digests() == set()
