"""Files that appear whole or not at all: written under a temporary name, then renamed.

A decryption that fails half-way (wrong key, truncated blob) must leave nothing at the
destination, and a keyring file must never be seen half-written by a concurrent reader. Other
layers write their whole files through here too (the storage configuration, caches), naming
the error class their callers expect (``error=``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gittrack.errors import CryptoError, GittrackError

BUFFER = 1 << 20


@contextlib.contextmanager
def atomic_output(
    dst: Path, mode: int = 0o666, error: type[GittrackError] = CryptoError
) -> Iterator[BinaryIO]:
    """A buffered file that becomes ``dst`` only if the ``with`` block succeeds.

    ``mode`` is masked by the umask, as for any new file. The temporary file is removed on
    any failure, so an error never leaves a partial ``dst`` behind; a failure of the disk is
    an ``error`` naming ``dst`` and the reason.
    """
    temp = _temp_name(dst)
    out = _open_new(temp, dst, mode, error)
    try:
        with out:
            yield out
        os.replace(temp, dst)
    except OSError as exc:  # flush, close or rename failed: the disk, not the caller
        _unlink(temp)
        raise error(f"cannot write {dst}: {reason(exc)}") from None
    except BaseException:
        _unlink(temp)
        raise


def write_atomic(
    dst: Path, data: bytes, mode: int = 0o666, error: type[GittrackError] = CryptoError
) -> None:
    with atomic_output(dst, mode, error) as out:
        out.write(data)


def create_exclusive(dst: Path, data: bytes, mode: int) -> None:
    """Write ``dst`` whole, durably, and only if it does not exist (``FileExistsError``).

    A hard link, unlike a rename, never replaces a file another process created meanwhile:
    for a secret that may already be in use, losing it would be worse than failing.
    """
    _make_parent(dst)
    temp = _temp_name(dst)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, dst)
    except FileExistsError:
        raise
    except OSError as exc:
        raise CryptoError(f"cannot write {dst}: {reason(exc)}") from None
    finally:
        _unlink(temp)


def reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _temp_name(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.{secrets.token_hex(6)}.tmp")


def _open_new(temp: Path, dst: Path, mode: int, error: type[GittrackError]) -> BinaryIO:
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise error(f"cannot write {dst}: {reason(exc)}") from None
    return os.fdopen(fd, "wb", buffering=BUFFER)


def _make_parent(dst: Path) -> None:
    try:
        dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CryptoError(f"cannot create {dst.parent}: {reason(exc)}") from None


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
