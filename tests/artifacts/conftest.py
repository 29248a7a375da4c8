"""Artifact storage on the three real backends (a local folder, fsspec's memory filesystem and
a moto S3 server), public and private, and repositories set up to use them."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pygit2
import pytest

from gittrack.blobs.cache import LocalCache
from gittrack.blobs.statcache import StatCache
from gittrack.blobs.store import BlobStore
from gittrack.crypto.age import generate_identity
from gittrack.crypto.keys import Keyring, ProjectKeys, init_user_identity
from gittrack.storage.vault import BlobVault

BACKENDS = ["local", "memory", "s3"]
Location = tuple[str, dict[str, Any]]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def old_file(path: Path, data: bytes) -> Path:
    """Write ``data`` with an mtime in the past: the stat cache ignores files written within
    the last instant (racily clean), and real datasets are seldom that young."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Location]:
    """``(url, options)`` of a fresh, empty store on each backend."""
    if request.param == "local":
        yield str(tmp_path / "store"), {}
    elif request.param == "memory":
        url = f"memory://gittrack-{uuid.uuid4().hex}/store"
        yield url, {}
        fs, root = fsspec.core.url_to_fs(url)
        if fs.exists(root):
            fs.rm(root, recursive=True)
    else:
        url, options = request.getfixturevalue("s3_url")
        yield url, dict(options)


@pytest.fixture
def project_keys() -> ProjectKeys:
    return ProjectKeys.from_secrets([generate_identity()[0]])


MakeStorage = Callable[..., BlobVault]


@pytest.fixture
def make_storage(tmp_path: Path) -> MakeStorage:
    """``make_storage(location, keys=None, workers=4)``: storage with its own caches."""

    def make(where: Location, keys: ProjectKeys | None = None, workers: int = 4,
             state: Path | None = None) -> BlobVault:
        state = state or tmp_path / f"state-{uuid.uuid4().hex[:8]}"
        store = BlobStore.from_url(where[0], where[1], presence=state / "cache" / "presence.sqlite")
        return BlobVault(
            store, LocalCache(state / "cache" / "blobs"),
            StatCache(state / "cache" / "stat.sqlite"), state / "tmp",
            keys=(lambda: keys) if keys is not None else None, workers=workers,
        )

    return make


@pytest.fixture(params=["public", "private"])
def privacy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def git_repo(repo: Path) -> pygit2.Repository:
    return pygit2.Repository(str(repo))


@pytest.fixture
def private_repo(git_repo: pygit2.Repository) -> pygit2.Repository:
    """The ``repo`` fixture with a keyring whose only member is the test's user (whose
    identity file lives in the temporary HOME)."""
    public, _, _ = init_user_identity()
    Keyring.for_repo(git_repo).init("me", public)
    return git_repo


__all__ = ["BACKENDS", "Location", "MakeStorage", "old_file", "sha"]
