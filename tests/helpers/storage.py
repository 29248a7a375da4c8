"""Blob stores on the real backends (a local folder, fsspec's memory filesystem, a moto S3
bucket), artifact storage over them, and projects configured to use them."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pygit2

from gittrack.blobs.cache import LocalCache
from gittrack.blobs.statcache import StatCache
from gittrack.blobs.store import BlobStore
from gittrack.crypto.keys import ProjectKeys
from gittrack.storage.config import save_storage
from gittrack.storage.vault import BlobVault
from tests.helpers.repos import git

BACKENDS = ["local", "memory", "s3"]
Location = tuple[str, dict[str, Any]]
"""``(url, options)`` for ``BlobStore.from_url``."""
MakeStorage = Callable[..., BlobVault]
Writer = Callable[[bytes], tuple[Path, str]]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


digest_of = sha


def old_file(path: Path, data: bytes) -> Path:
    """Write ``data`` with an mtime in the past: the stat cache ignores files written within
    the last instant (racily clean), and real datasets are seldom that young."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def s3_bucket(server: str) -> Location:
    """A fresh, empty bucket on the S3 server at ``server``. No ``region_name``: moto then
    rejects the bucket's LocationConstraint (see TESTING.md)."""
    options = {"key": "testing", "secret": "testing", "endpoint_url": server}
    bucket = f"gittrack-test-{uuid.uuid4().hex[:16]}"
    fsspec.filesystem("s3", **options).mkdir(bucket)
    return f"s3://{bucket}/store", options


@contextlib.contextmanager
def backend(kind: str, tmp: Path, s3: Callable[[], Location]) -> Iterator[Location]:
    """A fresh, empty store's location on backend ``kind`` (one of ``BACKENDS``); ``s3`` gives
    a fresh bucket when asked."""
    if kind == "local":
        yield str(tmp / "store"), {}
    elif kind == "memory":
        # fsspec's memory filesystem is one process-wide dict: a unique root, removed after.
        url = f"memory://gittrack-{uuid.uuid4().hex}/store"
        yield url, {}
        fs, root = fsspec.core.url_to_fs(url)
        if fs.exists(root):
            fs.rm(root, recursive=True)
    else:
        url, options = s3()
        yield url, dict(options)


def new_storage(where: Location, state: Path, keys: ProjectKeys | None = None,
                workers: int = 4) -> BlobVault:
    """Artifact storage on ``where`` with its caches and temporary files under ``state``."""
    store = BlobStore.from_url(where[0], where[1], presence=state / "cache" / "presence.sqlite")
    return BlobVault(
        store, LocalCache(state / "cache" / "blobs"),
        StatCache(state / "cache" / "stat.sqlite"), state / "tmp",
        keys=(lambda: keys) if keys is not None else None, workers=workers,
    )


def use_store(repo: Path, where: str, tmp: Path, s3: Location | None) -> str:
    """Configure the project's store: a local folder or the moto S3 bucket; returns its URL."""
    url, options = (str(tmp / "store"), {}) if where == "local" else s3  # type: ignore[misc]
    save_storage(pygit2.Repository(str(repo)), url, options, local=True)
    return url


def share_storage(clone: Path, url: str, options: dict[str, Any] | None = None) -> None:
    """Commit and push ``.gittrack/config.yaml`` pointing at the team's store."""
    save_storage(pygit2.Repository(str(clone)), url, options or {}, local=False)
    git(clone, "add", ".gittrack/config.yaml")
    git(clone, "commit", "-q", "-m", "storage")
    git(clone, "push", "-q", "origin", "main")


def share_backend(clone: Path, backend: str, tmp: Path, s3: Callable[[], Location]) -> None:
    """``share_storage`` to a team store on ``backend``: ``folder`` (under ``tmp``) or ``s3``
    (a fresh bucket from ``s3``)."""
    if backend == "folder":
        share_storage(clone, str(tmp / "team-store"))
    else:
        share_storage(clone, *s3())


def store_names(repo: Path) -> set[str]:
    """The names of the blobs in the project's store."""
    from gittrack.storage.project import open_storage

    return {b.name for b in open_storage(pygit2.Repository(str(repo))).store.iter_blobs()}
