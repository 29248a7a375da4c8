"""One contract suite, three real backends: a local folder, fsspec's memory filesystem, and a
moto S3 server reached through s3fs (the ``location`` fixture of ``tests/conftest.py``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gittrack.blobs.store import BlobStore
from tests.helpers.storage import Location, Writer, digest_of


@pytest.fixture
def store(location: Location) -> BlobStore:
    """A fresh, empty store on each backend."""
    return BlobStore.from_url(*location)


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
