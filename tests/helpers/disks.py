"""Real disks for fault tests: a small tmpfs to fill, read-only bind mounts. Root ignores
permissions, so a chmod proves nothing; mounts do. Each helper skips the test where mounting is
not allowed (not root, no CAP_SYS_ADMIN, no mount(8))."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> str | None:
    """``mount args``; the reason it failed, or None."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "mounting needs root and mount(8)"
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    return done.stderr.strip() or f"exit {done.returncode}" if done.returncode else None


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` read-only for every process, root included (root ignores permissions, so a
    chmod proves nothing): a read-only bind mount of it over itself. Skips the test where
    mounting is not allowed."""
    failed = _mount("--bind", str(path), str(path))
    if failed:
        pytest.skip(f"cannot make {path} read-only here (bind mount refused: {failed})")
    try:
        failed = _mount("-o", "remount,ro,bind", str(path))
        if failed:
            pytest.skip(f"cannot remount {path} read-only here: {failed}")
        yield
    finally:
        _umount(path)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (made here): a disk the test can fill or turn
    read-only. Skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    failed = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if failed:
        pytest.skip(f"cannot mount a small tmpfs here ({failed}): this test needs one")
    try:
        yield path
    finally:
        _umount(path)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` up to ``leave`` free bytes (``unfill`` frees it again)."""
    def free() -> int:
        return os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize

    chunk = b"\0" * 65536
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)  # unbuffered
    try:
        while free() > leave:
            try:
                os.write(fd, chunk[:max(min(len(chunk), free() - leave), 1)])
            except OSError:
                break  # full: tmpfs counts whole pages
    finally:
        os.close(fd)


def unfill(disk: Path) -> None:
    for path in disk.glob("filler*"):
        path.unlink()


__all__ = ["fill", "read_only", "tmpfs", "unfill"]
