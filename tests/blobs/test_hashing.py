"""hash_file: the digest of a file's bytes, streamed, refusing files that change under it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittrack.blobs.hashing import CHUNK, hash_file
from gittrack.errors import UsageError

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_known_digests(tmp_path: Path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "abc").write_bytes(b"abc")
    assert hash_file(tmp_path / "empty") == (EMPTY, 0)
    assert hash_file(tmp_path / "abc") == (ABC, 3)


@given(
    size=st.builds(lambda k, d: max(0, k * CHUNK + d), st.integers(0, 3), st.integers(-2, 2)),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_matches_hashlib_across_chunk_boundaries(tmp_path: Path, size: int, seed: int):
    data = random.Random(seed).randbytes(size)
    path = tmp_path / "data"
    path.write_bytes(data)
    assert hash_file(path) == (hashlib.sha256(data).hexdigest(), size)


def test_missing_file(tmp_path: Path):
    with pytest.raises(UsageError, match=f"{tmp_path / 'nope'}: no such file"):
        hash_file(tmp_path / "nope")


def test_directory(tmp_path: Path):
    with pytest.raises(UsageError, match="is a directory"):
        hash_file(tmp_path)


def test_device_is_not_a_file():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(UsageError, match="not a regular file"):
        hash_file(Path("/dev/zero"))  # would never end


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big"
    with path.open("wb") as f:
        f.write(os.urandom(CHUNK) * 64)
    return path


@contextlib.contextmanager
def keep_changing(path: Path, change: str) -> Iterator[None]:
    """While the caller hashes, another thread writes to the file (hashing drops the GIL)."""
    stop = threading.Event()

    def writer() -> None:
        with path.open("r+b") as f:
            n = 0
            while not stop.is_set():
                n += 1
                if change == "append":
                    f.seek(0, os.SEEK_END)
                    f.write(b"x")
                elif change == "truncate":
                    f.truncate(path.stat().st_size - 1)
                else:  # same size, new bytes in the middle
                    f.seek(CHUNK * 32)
                    f.write(n.to_bytes(8, "little"))
                f.flush()
                time.sleep(0.0005)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("change", ["append", "truncate", "overwrite"])
def test_file_changing_while_hashed(big_file: Path, change: str):
    with keep_changing(big_file, change), pytest.raises(UsageError, match="changed while it"):
        hash_file(big_file)


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum")
def test_at_least_as_fast_as_sha256sum(big_file: Path):
    """The floor the design names: hashlib (OpenSSL) must not be slower than coreutils."""
    hash_file(big_file)  # warm the page cache for both
    ours = min(_timed(lambda: hash_file(big_file)) for _ in range(3))
    theirs = min(
        _timed(
            lambda: subprocess.run(["sha256sum", str(big_file)], check=True, capture_output=True)
        )
        for _ in range(3)
    )
    assert ours <= theirs * 1.1, f"hash_file {ours:.3f} s, sha256sum {theirs:.3f} s"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
