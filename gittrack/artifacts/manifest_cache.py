"""A local copy of large ``manifest.parquet`` files, by git blob id, for one-file reads.

A version of 1,000,000 files has a manifest of about 70 MB (the digests do not compress), and
inflating that git blob takes 0.3 to 0.9 s here: more than finding one file in it
(``manifest.find_entry``, one row group). A blob never changes, so the first lookup keeps the
inflated bytes in ``.git/gittrack/cache/manifests/<blob id>.parquet`` (local only, safe to
delete) and later ones read them from there. Only manifests of at least ``MIN_BYTES``, only
for lookups (``find_entry``, ``first_entries``, ``count_rows``: whole reads, as gc's, do not
fill it), and at most ``MAX_BYTES`` in all, the least recently used dropped first. A copy
whose size is not its blob's (a torn or foreign file) is ignored and replaced; anything that
cannot be read or written is ignored (a read-only ``.git``): git is read instead.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from pathlib import Path

from gittrack.atomic import write_atomic
from gittrack.errors import GittrackError
from gittrack.git import objects
from gittrack.git.repo import Repository, gittrack_dir

MIN_BYTES = 4 << 20
"""Smaller manifests (65,000 files or so) are read from git: inflating them is quick."""
MAX_BYTES = 1 << 30
"""What the copies take on disk at most: a dozen versions of a million files."""


def folder(repo: Repository) -> Path:
    return gittrack_dir(repo) / "cache" / "manifests"


def cached(repo: Repository, blob: str) -> memoryview | None:
    """The bytes of manifest blob ``blob`` from the local copy, mapped (a lookup touches its
    footer and one row group, not 70 MB), or ``None``."""
    path = folder(repo) / f"{blob}.parquet"
    try:
        with open(path, "rb") as copy:
            if os.fstat(copy.fileno()).st_size != objects.blob_size(repo, blob):
                return None
            # the mapping outlives the descriptor; a copy is replaced by a rename, never
            # rewritten in place, so what is mapped stays as it was
            data = memoryview(mmap.mmap(copy.fileno(), 0, access=mmap.ACCESS_READ))
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: dropped last
    return data


def keep(repo: Repository, blob: str, data: bytes) -> None:
    """Keep a copy of manifest blob ``blob`` (``data``) if it is large enough to be worth it."""
    if len(data) < MIN_BYTES:
        return
    where = folder(repo)
    with contextlib.suppress(OSError, GittrackError):  # write_atomic names the error it raises
        write_atomic(where / f"{blob}.parquet", data, parents=True)
        _trim(where)


def forget_missing(repo: Repository) -> None:
    """Drop the copies whose blob is no longer in the repository: after ``rm``, ``artifact
    rm``, ``purge`` or a pull pruned a version's objects, its file names and digests must not
    stay readable here (as the runs cache erases a deleted run's config)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder(repo)):
            blob = entry.name.removesuffix(".parquet")
            if objects.blob_size(repo, blob) is None:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _trim(where: Path) -> None:
    """Drop the least recently used copies until they take at most ``MAX_BYTES``."""
    copies = []
    for entry in os.scandir(where):
        with contextlib.suppress(OSError):
            st = entry.stat()
            copies.append((st.st_mtime, st.st_size, entry.path))
    total = sum(size for _, size, _ in copies)
    for _, size, path in sorted(copies):
        if total <= MAX_BYTES:
            break
        with contextlib.suppress(OSError):
            os.unlink(path)
            total -= size
