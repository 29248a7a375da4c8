"""Artifacts section: the data it puts and gets, and the scratch and S3 helpers both sides use."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

MiB = 1 << 20
GiB = 1 << 30


def size_label(n: int) -> str:
    return f"{n // GiB} GiB" if n >= GiB and n % GiB == 0 else f"{n // MiB} MiB"


def s3_filesystem(options: dict[str, Any]) -> Any:
    import fsspec

    return fsspec.filesystem("s3", use_listings_cache=False, **options)


def files_under(root: Path) -> list[str]:
    """Relative paths of the regular files under ``root``, sorted."""
    out = []
    for folder, _, names in os.walk(root):
        for name in names:
            out.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(out)


def write_random(path: Path, size: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            f.write(rng.bytes(n))
            left -= n
    age_mtime(path)


def write_small_files(root: Path, count: int, seed: int) -> int:
    """``count`` files of 1-8 KiB (uniform), 100 per folder; their total size."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = rng.integers(1024, 8 * 1024, size=count, endpoint=True)
    for i, size in enumerate(sizes.tolist()):
        path = root / f"{i // 100:03d}" / f"{i:05d}.bin"
        if i % 100 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.bytes(size))
        age_mtime(path)
    return int(sizes.sum())


def age_mtime(path: Path) -> None:
    # Real datasets are seldom seconds old, and the stat cache does not trust a file written
    # within the last instant ("racily clean"); an hour-old mtime is the common case.
    past = time.time() - 3600
    os.utime(path, (past, past))


def tree(path: Path) -> tuple[int, int]:
    """(files, bytes) under ``path``: a cheap check that a get brought everything back."""
    if path.is_file():
        return 1, path.stat().st_size
    files = total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            files += 1
            total += os.path.getsize(os.path.join(folder, name))
    return files, total


def rm(*paths: Path) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
