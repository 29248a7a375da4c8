"""The write-ahead log of a live run: ``.git/gittrack/wal/<run-id>/``.

- ``lock``: held with ``flock`` by the process writing the run. The kernel releases it when
  that process dies however it dies, so "the lock is free" is exactly "the writer is gone".
- ``<first-seq>.wal``: segments of framed records (``gittrack.formats.walcodec``), copied
  into a shared memory mapping of the file (no syscall and no ``fsync`` per record: the page
  cache survives a killed process; checkpoints fsync). Unused space at the end reads as zeros,
  which end the log. A checkpoint starts a new segment; older segments are deleted once the
  checkpoint holding their records is committed.

The folder is prepared under a ``.tmp-*`` name and renamed into place only once locked, so a
recoverer never mistakes a starting run for a dead one.
"""

from __future__ import annotations

import fcntl
import itertools
import mmap
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gittrack.errors import RepositoryError, RunLockedError
from gittrack.formats import walcodec
from gittrack.types import RunId

_SEGMENT_SUFFIX = ".wal"
SEGMENT_BYTES = 8 * 1024 * 1024


def wal_root(gittrack_dir: Path) -> Path:
    return gittrack_dir / "wal"


class RunLock:
    """An exclusive ``flock`` on ``<dir>/lock``; ``None`` from ``try_acquire`` if held."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def try_acquire(cls, directory: Path) -> RunLock | None:
        try:
            fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(fd)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class WalWriter:
    """Appends records for one run; owned by the run's process while it holds the lock."""

    def __init__(self, directory: Path, lock: RunLock, next_seq: int) -> None:
        self.directory = directory
        self.lock = lock
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._pos = 0
        self._size = 0
        self._segment_start = next_seq
        self._open_segment(next_seq)

    @classmethod
    def create(cls, root: Path, run_id: RunId, next_seq: int) -> WalWriter:
        final = root / run_id
        if final.exists():
            lock = RunLock.try_acquire(final)
            if lock is None:
                raise RunLockedError(f"run {run_id} is being written by another process")
            return cls(final, lock, next_seq)
        temp = root / f".tmp-{run_id}-{os.getpid()}"
        try:
            temp.mkdir(parents=True, exist_ok=True)
            lock = RunLock.try_acquire(temp)
            assert lock is not None
            os.rename(temp, final)
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            raise RepositoryError(
                f"cannot create the write-ahead log in {root}: {exc.strerror or exc}"
            ) from None
        return cls(final, lock, next_seq)

    def _open_segment(self, first_seq: int, min_size: int = 0) -> None:
        # A shared mapping of a pre-sized (sparse) file: a record copied into it is in the
        # page cache, so it survives the death of this process, without a syscall per record.
        path = self.directory / f"{first_seq:016d}{_SEGMENT_SUFFIX}"
        size = max(SEGMENT_BYTES, min_size)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._pos, self._size = fd, 0, size
        self._segment_start = first_seq

    def append(self, record: Any) -> None:
        data = walcodec.encode(record)
        end = self._pos + len(data)
        if end > self._size:
            self._close_segment()
            self._open_segment(record[1], min_size=len(data) + walcodec.HEADER_SIZE)
            end = len(data)
        assert self._map is not None
        self._map[self._pos:end] = data
        self._pos = end

    def _close_segment(self) -> None:
        """Unmap the current segment and cut it to the bytes it holds."""
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            os.ftruncate(self._fd, self._pos)
            os.close(self._fd)
            self._fd = -1

    def rotate(self, next_seq: int) -> None:
        """Start a new segment for records from ``next_seq`` on (called under the run lock)."""
        if next_seq == self._segment_start or self._pos == 0:
            return
        self._close_segment()
        self._open_segment(next_seq)

    def drop_before(self, seq: int) -> None:
        """Delete segments whose records all have a sequence number <= ``seq``."""
        found = segments(self.directory)
        for (_, path), (next_start, _) in itertools.pairwise(found):
            if next_start - 1 > seq:
                break
            path.unlink(missing_ok=True)

    def close(self, remove: bool) -> None:
        self._close_segment()
        if remove:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.lock.release()


def segments(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.glob(f"*{_SEGMENT_SUFFIX}"):
        stem = path.name[: -len(_SEGMENT_SUFFIX)]
        if stem.isdigit():
            found.append((int(stem), path))
    return sorted(found)


def read_records(directory: Path, after_seq: int) -> Iterator[tuple[Any, ...]]:
    """Records with a sequence number above ``after_seq``, in order."""
    for _, path in segments(directory):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        for record in walcodec.decode_all(data):
            if record[1] > after_seq:
                yield record
