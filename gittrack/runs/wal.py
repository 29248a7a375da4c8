"""The write-ahead log of a live run: ``.git/gittrack/wal/<run-id>/``.

- ``lock``: held with ``flock`` by the process writing the run. The kernel releases it when
  that process dies however it dies, so "the lock is free" is exactly "the writer is gone".
- ``<first-seq>.wal``: segments of framed records (``gittrack.formats.walcodec``), copied
  into a shared memory mapping of the file (no syscall and no ``fsync`` per record: the page
  cache survives a killed process; checkpoints fsync). Unused space at the end reads as zeros,
  which end the log; so does a torn last record. Damage anywhere else is skipped and reported
  (``read_records``). A checkpoint starts a new segment; older segments are deleted once the
  checkpoint holding their records is committed.
- ``writer``: a random token naming the process that writes this log; its checkpoints carry
  it (``resume.yaml``), so a fold knows whether the run's head continues this log or was
  written by another process since (``gittrack.runs.recover``).
- ``quarantine``: present once folding the log failed for a reason that retrying will not fix
  (the reason, as text); recovery then reports the run without reading the log again.

A segment's blocks are reserved on disk (``posix_fallocate``) before it is mapped: a store into
a mapped page the disk cannot back kills the process with ``SIGBUS``, while a failed
reservation is an ``OSError`` that ``append`` turns into a ``RepositoryError`` before anything
is written. Near a full disk segments get smaller (down to ``_MIN_SEGMENT_BYTES``); where space
cannot be reserved at all (no ``posix_fallocate``), records are written with ``pwrite``, which
reports a full disk as an error too.

The folder is prepared under a ``.tmp-*`` name and renamed into place only once locked, so a
recoverer never mistakes a starting run for a dead one.

Each worktree has its own ``wal`` folder (``gittrack_dir``), while run refs are shared: whether
a run is live is asked of all of them (``gittrack.runs.liveness``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import itertools
import mmap
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gittrack.atomic import replacing
from gittrack.errors import RepositoryError, RunLockedError
from gittrack.formats import walcodec
from gittrack.git.repo import Repository, every_gittrack_dir
from gittrack.types import RunId

_SEGMENT_SUFFIX = ".wal"
SEGMENT_BYTES = 8 * 1024 * 1024
_MIN_SEGMENT_BYTES = 64 * 1024
# posix_fallocate's answers that mean "this file system cannot reserve", not "no space".
_CANNOT_RESERVE = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS}
_WRITER_FILE = "writer"
QUARANTINE_FILE = "quarantine"


def wal_root(gittrack_dir: Path) -> Path:
    return gittrack_dir / "wal"


def wal_roots(repo: Repository) -> list[Path]:
    """The ``wal`` folder of every worktree of ``repo``, this worktree's first."""
    return [wal_root(folder) for folder in every_gittrack_dir(repo)]


def is_held(directory: Path) -> bool:
    """Whether a live process holds ``directory``'s lock (a writer, or a recoverer)."""
    try:
        fd = os.open(directory / "lock", os.O_RDONLY)
    except OSError:
        return False  # a writer creates its lock before its folder is visible
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock taken to look
    return False


def writer_token(directory: Path) -> str | None:
    """The token of the process that wrote ``directory``'s log (``None``: an older version)."""
    try:
        return (directory / _WRITER_FILE).read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


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

    def __init__(self, directory: Path, lock: RunLock, next_seq: int, token: str) -> None:
        self.directory = directory
        self.lock = lock
        self.token = token
        self._map: mmap.mmap | None = None
        self._view: memoryview | None = None  # of _map, for rows (released before it closes)
        self._keys: dict[tuple[str, ...], int] = {}  # the keys ids of the open segment's rows
        self._next_keys_id = 0
        self._fd = -1  # -1: no open segment (the next append opens one)
        self._pos = 0
        self._size = 0
        self._segment_start = next_seq
        self._open_segment(next_seq)

    @classmethod
    def create(cls, root: Path, run_id: RunId, next_seq: int) -> WalWriter:
        final = root / run_id
        token = os.urandom(8).hex()
        if final.exists():
            lock = RunLock.try_acquire(final)
            if lock is None:
                raise RunLockedError(f"run {run_id} is being written by another process")
            return cls._locked(final, lock, next_seq, token, created=False)
        temp = root / f".tmp-{run_id}-{os.getpid()}"
        try:
            temp.mkdir(parents=True, exist_ok=True)
            lock = RunLock.try_acquire(temp)
            assert lock is not None
            (temp / _WRITER_FILE).write_text(token + "\n")
            os.rename(temp, final)
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            raise RepositoryError(
                f"cannot create the write-ahead log in {root}: {exc.strerror or exc}"
            ) from None
        return cls._locked(final, lock, next_seq, token, created=True)

    @classmethod
    def _locked(
        cls, directory: Path, lock: RunLock, next_seq: int, token: str, created: bool
    ) -> WalWriter:
        try:
            if not created:  # a folder left behind (its log folded): this process writes it now
                with replacing(directory / _WRITER_FILE) as temp:
                    temp.write_text(token + "\n")
                (directory / QUARANTINE_FILE).unlink(missing_ok=True)
            return cls(directory, lock, next_seq, token)
        except BaseException as exc:
            if created:  # nothing of the run is in it yet
                shutil.rmtree(directory, ignore_errors=True)
            lock.release()
            if isinstance(exc, OSError):
                raise RepositoryError(
                    f"cannot write the write-ahead log in {directory}: {exc.strerror or exc}"
                ) from None
            raise

    def _open_segment(self, first_seq: int, min_size: int = 0) -> None:
        """Create, reserve and map the segment whose first record is ``first_seq``; raises
        ``RepositoryError`` (nothing open, nothing written) if the disk cannot hold it."""
        path = self.directory / f"{first_seq:016d}{_SEGMENT_SUFFIX}"
        try:
            fd = _create_segment(path)
        except OSError as exc:
            raise _write_error(path, exc) from None
        try:
            size, self._map = map_reserved(fd, max(SEGMENT_BYTES, min_size), min_size)
        except OSError as exc:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise _write_error(path, exc) from None
        except BaseException:
            os.close(fd)
            raise
        # Without a reservation (size 0) records are written with pwrite, up to SEGMENT_BYTES.
        self._fd, self._pos, self._size = fd, 0, size or max(SEGMENT_BYTES, min_size)
        self._segment_start = first_seq
        self._view = None if self._map is None else memoryview(self._map)
        # A segment is read on its own: its rows name keys records it holds, ids from 0.
        self._keys = {}
        self._next_keys_id = 0

    def append(self, record: Any) -> None:
        """Write ``record``; on return it survives the death of this process. Raises
        ``RepositoryError`` with nothing written if the disk is full."""
        if self._map is not None:  # the hot path: the frame is copied into the mapping
            put = walcodec.put(self._map, self._pos, self._size, record)
            if put is not None:
                self._pos = put
                return
        data = walcodec.encode(record)
        end = self._pos + len(data)
        if self._fd < 0 or end > self._size:
            try:
                self._close_segment()
            except OSError as exc:
                raise _write_error(self._segment_path(), exc) from None
            self._open_segment(record[1], min_size=len(data) + walcodec.HEADER_SIZE)
            end = len(data)
        if self._map is not None:
            walcodec.put_frame(self._map, self._pos, data)
        else:
            self._pwrite(data)
        self._pos = end

    def append_row(self, seq: int, time: float, step: int | None,
                   values: Mapping[str, Any]) -> None:
        """Write the record ``("log", seq, time, step, None, values)`` of a ``log()`` call
        whose values are all ``float`` (not a subclass, not a bool): packed as a row
        (``walcodec.put_row``) after a ``keys`` record naming its keys, the first time in
        this segment; the same record once read. Survives the death of this process on
        return, as ``append``; where the segment has no room for both, ``append`` writes it
        (pickled, in a new segment)."""
        view = self._view
        if view is not None:
            keys = tuple(values)
            keys_id = self._keys.get(keys)
            if keys_id is None:
                keys_id = self._name_keys(view, keys, seq)
            if keys_id is not None:
                put = walcodec.put_row(view, self._pos, self._size, keys_id, seq, time, step,
                                       values)
                if put is not None:
                    self._pos = put
                    return
        self.append(("log", seq, time, step, None, values))

    def _name_keys(self, view: memoryview, keys: tuple[str, ...], seq: int) -> int | None:
        """Write a ``keys`` record naming ``keys`` in the open segment; their id, or ``None``
        (nothing written) if the segment has no room for it and a row after it."""
        keys_id = self._next_keys_id
        frame = walcodec.encode((walcodec.KEYS, seq, keys_id, keys))
        end = self._pos + len(frame)
        if end + walcodec.row_size(len(keys)) > self._size:
            return None
        self._pos = walcodec.put_frame(view, self._pos, frame)
        self._keys[keys] = keys_id
        self._next_keys_id += 1
        return keys_id

    def _pwrite(self, data: bytes) -> None:
        written = 0
        try:
            while written < len(data):
                written += os.pwrite(self._fd, data[written:], self._pos + written)
        except OSError as exc:
            # A torn record ends the log; cut it so the next append is not written after it.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._pos)
            raise _write_error(self._segment_path(), exc) from None

    def _segment_path(self) -> Path:
        return self.directory / f"{self._segment_start:016d}{_SEGMENT_SUFFIX}"

    def _close_segment(self) -> None:
        """Unmap the current segment and cut it to the bytes it holds."""
        if self._view is not None:
            self._view.release()
            self._view = None
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            try:
                os.ftruncate(self._fd, self._pos)  # frees the reserved, unused end
            finally:
                os.close(self._fd)
                self._fd = -1

    def rotate(self, next_seq: int) -> None:
        """Start a new segment for records from ``next_seq`` on (called under the run lock).

        Never raises for a full disk: the new segment is then opened by the next ``append``,
        which reports it to the caller of ``log()``."""
        if self._fd < 0 or next_seq == self._segment_start or self._pos == 0:
            return
        with contextlib.suppress(OSError):  # closed (and its records whole) either way
            self._close_segment()
        with contextlib.suppress(RepositoryError):
            self._open_segment(next_seq)

    def drop_before(self, seq: int) -> None:
        """Delete segments whose records all have a sequence number <= ``seq``."""
        found = segments(self.directory)
        for (_, path), (next_start, _) in itertools.pairwise(found):
            if next_start - 1 > seq:
                break
            path.unlink(missing_ok=True)

    def close(self, remove: bool) -> None:
        with contextlib.suppress(OSError):  # the records are all there either way
            self._close_segment()
        if remove:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.lock.release()


def _create_segment(path: Path) -> int:
    """A new, empty segment file at ``path``, opened for writing.

    The name may be taken by a segment that holds no record: the one a record too large for
    it was meant to start (cut to nothing when it was closed; it is made again, larger), or
    one a process left when it stopped before its first record. Either is reused. A segment
    holding records is never overwritten: ``FileExistsError``."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pass
    fd = os.open(path, os.O_RDWR)
    try:
        if _holds_records(fd):
            raise FileExistsError(errno.EEXIST, "it holds records already", str(path))
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _holds_records(fd: int) -> bool:
    with open(os.dup(fd), "rb") as f:
        data = f.read()
    return next(walcodec.scan(data), None) is not None  # an intact record, even after damage


def map_reserved(fd: int, size: int, min_size: int = 0) -> tuple[int, mmap.mmap | None]:
    """Reserve ``size`` bytes of the new, empty file ``fd`` (less near a full disk: ``_reserve``)
    and map them shared, so that what is copied into the mapping survives the death of the
    process: ``(size, mapping)``; ``(0, None)`` where the file system cannot reserve (write with
    ``pwrite`` then). The write-ahead log's segments and the console spool
    (``gittrack.runs.console``) are made this way."""
    size = _reserve(fd, size, min_size)
    if not size:
        return 0, None
    return size, mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)


def _reserve(fd: int, size: int, min_size: int) -> int:
    """Allocate blocks for ``size`` bytes of ``fd`` (less, down to ``_MIN_SEGMENT_BYTES`` or
    ``min_size``, when the disk is nearly full); 0 where the file system cannot reserve."""
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is None:  # macOS: no way to reserve; pwrite reports a full disk
        return 0
    floor = max(min_size, _MIN_SEGMENT_BYTES)
    while True:
        try:
            fallocate(fd, 0, size)
            return size
        except OSError as exc:
            if exc.errno in _CANNOT_RESERVE:
                return 0
            if exc.errno != errno.ENOSPC or size <= floor:
                raise
        os.ftruncate(fd, 0)  # give back what a partial reservation took
        size = max(size // 2, floor)


def _write_error(path: Path, exc: OSError) -> RepositoryError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason += " (ENOSPC): nothing was recorded by this call; free space and go on"
    return RepositoryError(f"cannot write the write-ahead log {path}: {reason}")


def segments(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.glob(f"*{_SEGMENT_SUFFIX}"):
        stem = path.name[: -len(_SEGMENT_SUFFIX)]
        if stem.isdigit():
            found.append((int(stem), path))
    return sorted(found)


@dataclasses.dataclass(frozen=True, slots=True)
class Damage:
    """Bytes of a segment that are not records and not a torn end: records were lost there."""

    segment: Path
    offset: int
    size: int

    def __str__(self) -> str:
        return f"{self.size} bytes at offset {self.offset} of {self.segment.name}"


def read_records(
    directory: Path, after_seq: int, damage: list[Damage] | None = None
) -> Iterator[tuple[Any, ...]]:
    """Records with a sequence number above ``after_seq``, in order.

    A torn end (a partial or zeroed record at the end of the last segment, nothing intact
    after it: a process killed while writing it, before ``log()`` returned) ends the log
    silently. Any other bytes that are not records (damage in the middle of a segment, or
    at the end of an older one) are skipped, the records after them are read all the same,
    and the damage is appended to ``damage``."""
    found = segments(directory)
    for index, (_, path) in enumerate(found):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        pos = 0
        for start, end, record in walcodec.scan(data):
            if start > pos and damage is not None:
                damage.append(Damage(path, pos, start - pos))
            pos = end
            if record[1] > after_seq and record[0] != walcodec.KEYS:
                yield record
        last = index == len(found) - 1
        if damage is not None and not _clean_end(data, pos, last):
            damage.append(Damage(path, pos, len(data.rstrip(b"\0")) - pos))


def _clean_end(data: bytes, pos: int, last: bool) -> bool:
    """Whether ``data[pos:]``, after the last intact record, is an unused end (zeros) or, in
    the last segment, one torn record: it runs past the end, or only zeros follow it, and no
    intact frame starts at ``pos`` or after it (a row whose ``keys`` record was damaged, a
    record this version refuses: lost records, whatever a damaged length says)."""
    if not data[pos:].strip(b"\0"):
        return True
    if not last or walcodec.holds_frame(data, pos):
        return False
    end = walcodec.declared_end(data, pos)
    return end is None or end >= len(data) or not data[end:].strip(b"\0")
