"""Files that appear whole or not at all: written under a temporary name, then renamed.

A decryption that fails half-way (wrong key, truncated blob) must leave nothing at the
destination, a keyring file must never be seen half-written by a concurrent reader, a cache
entry or a download must never be read partial. Every layer writes its whole files through
here, naming the error class its callers expect (``error=``; ``GittrackError`` if none).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gittrack.errors import GittrackError

BUFFER = 1 << 20


@contextlib.contextmanager
def replacing(dst: Path, temp: Path | None = None) -> Iterator[Path]:
    """A temporary path beside ``dst`` (or ``temp``) that replaces ``dst`` if the block succeeds.

    For writers that fill a path themselves (a copy, a download, a checked stream): the block
    writes ``temp``; on any failure it is removed and ``dst`` is left as it was. Errors pass
    through unchanged, for the caller to name. ``temp`` must be in ``dst``'s folder (a rename
    across filesystems fails); give one when a reader recognises temporary names by a mark.
    """
    temp = _temp_name(dst) if temp is None else temp
    try:
        yield temp
        os.replace(temp, dst)
    except BaseException:
        _unlink(temp)
        raise


@contextlib.contextmanager
def atomic_output(
    dst: Path, mode: int = 0o666, error: type[GittrackError] = GittrackError, *,
    fsync: bool = False, parents: bool = False,
) -> Iterator[BinaryIO]:
    """A buffered file that becomes ``dst`` only if the ``with`` block succeeds.

    ``mode`` is masked by the umask, as for any new file. The temporary file is removed on
    any failure, so an error never leaves a partial ``dst`` behind; a failure of the disk is
    an ``error`` naming ``dst`` and the reason. ``fsync=True`` makes the bytes durable before
    the rename, for a file that must survive a power cut whole; ``parents=True`` creates the
    missing folders first.
    """
    if parents:
        _make_parent(dst, error)
    temp = _temp_name(dst)
    out = _open_new(temp, dst, mode, error)
    try:
        with replacing(dst, temp), out:
            yield out
            if fsync:
                out.flush()
                os.fsync(out.fileno())
    except OSError as exc:  # flush, close or rename failed: the disk, not the caller
        raise error(f"cannot write {dst}: {reason(exc)}") from None


def write_atomic(
    dst: Path, data: bytes, mode: int = 0o666, error: type[GittrackError] = GittrackError, *,
    fsync: bool = False, parents: bool = False,
) -> None:
    with atomic_output(dst, mode, error, fsync=fsync, parents=parents) as out:
        out.write(data)


def copy_atomic(src: Path, dst: Path, temp: Path | None = None) -> None:
    """``dst`` becomes a copy of ``src``, whole or not at all (``OSError`` passes through)."""
    with replacing(dst, temp) as path:
        shutil.copyfile(src, path)  # streams (sendfile on Linux)


def create_exclusive(
    dst: Path, data: bytes, mode: int, error: type[GittrackError] = GittrackError
) -> None:
    """Write ``dst`` whole, durably, and only if it does not exist (``FileExistsError``).

    A hard link, unlike a rename, never replaces a file another process created meanwhile:
    for a secret that may already be in use, losing it would be worse than failing.
    """
    _make_parent(dst, error, 0o700)
    temp = _temp_name(dst)
    try:
        with _open_new(temp, dst, mode, error) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, dst)
    except FileExistsError:
        raise
    except OSError as exc:
        raise error(f"cannot write {dst}: {reason(exc)}") from None
    finally:
        _unlink(temp)


def fsync_dir(folder: Path) -> None:
    """Make ``folder``'s entries (a rename into it) durable; ``OSError`` passes through."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _temp_name(dst: Path) -> Path:
    # the name cut short: a long ``dst`` name plus the mark must stay within NAME_MAX
    return dst.with_name(f".{dst.name[:40]}.{secrets.token_hex(6)}.tmp")


def _open_new(temp: Path, dst: Path, mode: int, error: type[GittrackError]) -> BinaryIO:
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise error(f"cannot write {dst}: {reason(exc)}") from None
    return os.fdopen(fd, "wb", buffering=BUFFER)


def _make_parent(dst: Path, error: type[GittrackError], mode: int = 0o777) -> None:
    try:
        dst.parent.mkdir(mode=mode, parents=True, exist_ok=True)
    except OSError as exc:
        raise error(f"cannot create {dst.parent}: {reason(exc)}") from None


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
