"""LocalCache: entries appear whole, by hard link on one filesystem and by copy across two."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gittrack.blobs.cache import LocalCache
from gittrack.errors import StorageError
from tests.helpers.threads import in_threads


def source(folder: Path, data: bytes) -> tuple[Path, str]:
    path = folder / f"src-{hashlib.md5(data).hexdigest()}"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@pytest.fixture
def cache(tmp_path: Path) -> LocalCache:
    return LocalCache(tmp_path / "cache")


@pytest.fixture
def other_fs(tmp_path: Path) -> Iterator[Path]:
    """A folder on another filesystem than tmp_path (tmpfs at /dev/shm), where there is one."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem to copy across")
    folder = Path(tempfile.mkdtemp(dir=shm, prefix="gittrack-test-"))
    yield folder
    shutil.rmtree(folder)


def test_path_is_sharded(cache: LocalCache):
    digest = "ab" * 32
    assert cache.path(digest) == cache.root / "ab" / digest[2:]


@pytest.mark.parametrize("bad", ["", "ab", "AB" * 32, "../" + "a" * 61, "a/" + "b" * 62])
def test_invalid_digests(cache: LocalCache, tmp_path: Path, bad: str):
    src, _ = source(tmp_path, b"x")
    for call in (
        lambda: cache.path(bad),
        lambda: cache.has(bad),
        lambda: cache.add(src, bad),
        lambda: cache.remove(bad),
    ):
        with pytest.raises(StorageError, match="invalid blob name"):
            call()
    assert not cache.root.exists()


def test_add_hard_links_on_one_filesystem(cache: LocalCache, tmp_path: Path):
    src, digest = source(tmp_path, b"same filesystem")
    assert not cache.has(digest)
    entry = cache.add(src, digest)
    assert entry == cache.path(digest)
    assert cache.has(digest)
    assert entry.read_bytes() == b"same filesystem"
    assert entry.stat().st_ino == src.stat().st_ino
    assert src.exists()


def test_add_copies_across_filesystems(tmp_path: Path, other_fs: Path):
    cache = LocalCache(other_fs / "cache")
    src, digest = source(tmp_path, b"other filesystem")
    entry = cache.add(src, digest)
    assert entry.read_bytes() == b"other filesystem"
    assert entry.stat().st_ino != src.stat().st_ino
    assert src.exists()
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # no temporary left


@pytest.mark.parametrize("where", ["same", "other"])
def test_move_takes_the_file(tmp_path: Path, request: pytest.FixtureRequest, where: str):
    root = tmp_path if where == "same" else request.getfixturevalue("other_fs")
    cache = LocalCache(root / "cache")
    src, digest = source(tmp_path, b"moved in")
    entry = cache.add(src, digest, move=True)
    assert entry.read_bytes() == b"moved in"
    assert not src.exists()
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]


def test_adding_again_keeps_the_entry(cache: LocalCache, tmp_path: Path):
    src, digest = source(tmp_path, b"twice")
    first = cache.add(src, digest)
    again = tmp_path / "again"
    again.write_bytes(b"twice")
    assert cache.add(again, digest) == first
    assert cache.add(again, digest, move=True) == first
    assert not again.exists()  # move means the caller is done with it
    assert first.read_bytes() == b"twice"


def test_remove(cache: LocalCache, tmp_path: Path):
    src, digest = source(tmp_path, b"gone")
    cache.add(src, digest)
    cache.remove(digest)
    assert not cache.has(digest)
    cache.remove(digest)  # removing what is not there is fine
    assert src.read_bytes() == b"gone"


def test_missing_source(cache: LocalCache, tmp_path: Path):
    with pytest.raises(StorageError, match=r"cannot add .*nope"):
        cache.add(tmp_path / "nope", "ab" * 32)
    assert not cache.has("ab" * 32)


def test_unwritable_cache(tmp_path: Path):
    (tmp_path / "file").write_text("")
    cache = LocalCache(tmp_path / "file" / "cache")
    src, digest = source(tmp_path, b"x")
    with pytest.raises(StorageError, match="local cache"):
        cache.add(src, digest)


@pytest.mark.parametrize("where", ["same", "other"])
def test_concurrent_adds_of_one_digest(tmp_path: Path, request: pytest.FixtureRequest, where: str):
    root = tmp_path if where == "same" else request.getfixturevalue("other_fs")
    cache = LocalCache(root / "cache")
    data = os.urandom(1 << 20)
    digest = hashlib.sha256(data).hexdigest()
    copies = []
    for i in range(8):
        copies.append(tmp_path / f"copy{i}")
        copies[-1].write_bytes(data)
    assert in_threads(lambda path: cache.add(path, digest), copies) == []
    assert cache.path(digest).read_bytes() == data
    assert [p.name for p in cache.path(digest).parent.iterdir()] == [digest[2:]]
