"""One contract suite, three real backends: a local folder, fsspec's memory filesystem, and a
moto S3 server reached through s3fs (``s3_url`` in ``tests/conftest.py``)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
import pytest

from gittrack.blobs.store import BlobStore

BACKENDS = ["local", "memory", "s3"]


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """A fresh, empty store on each backend."""
    if request.param == "local":
        yield BlobStore.from_url(str(tmp_path / "store"))
    elif request.param == "memory":
        # fsspec's memory filesystem is one process-wide dict: a unique root, removed after.
        url = f"memory://gittrack-{uuid.uuid4().hex}/store"
        yield BlobStore.from_url(url)
        fs, root = fsspec.core.url_to_fs(url)
        if fs.exists(root):
            fs.rm(root, recursive=True)
    else:
        url, options = request.getfixturevalue("s3_url")
        yield BlobStore.from_url(url, options)


Writer = Callable[[bytes], tuple[Path, str]]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """``write(data) -> (path, digest)``: a local file holding ``data``."""
    folder = tmp_path / "src"
    folder.mkdir()

    def make(data: bytes) -> tuple[Path, str]:
        path = folder / uuid.uuid4().hex
        path.write_bytes(data)
        return path, digest_of(data)

    return make
