"""add_reference: local files by sha256, remote objects by their store's checksum; a changed
object is reported when fetched, never silently given."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pygit2
import pytest

import gittrack
from gittrack.artifacts.publish import log_artifact
from gittrack.errors import StorageError, UsageError
from gittrack.storage import config
from tests.helpers.storage import old_file, sha


def test_a_local_file_is_hashed_not_copied(git_repo: pygit2.Repository, tmp_path: Path) -> None:
    src = old_file(tmp_path / "ext" / "big.csv", b"external")
    art = gittrack.Artifact("refs", "dataset")
    art.add_reference(src)
    version = log_artifact(git_repo, art, producer=None)
    (entry,) = version.files()
    assert (entry.path, entry.digest, entry.size, entry.blob, entry.ref) == (
        "big.csv", sha(b"external"), 8, None, src.as_uri())
    blobs = Path(git_repo.path) / "gittrack" / "blobs"
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
    assert (version.download(tmp_path / "out") / "big.csv").read_bytes() == b"external"
    src.write_bytes(b"EXTERNAL")
    with pytest.raises(StorageError, match=r"changed since it was logged"):
        version.download(tmp_path / "again")
    assert not (tmp_path / "again" / "big.csv").exists()


def test_a_folder_reference_records_each_file(git_repo: pygit2.Repository,
                                              tmp_path: Path) -> None:
    old_file(tmp_path / "ext" / "a.txt", b"a")
    old_file(tmp_path / "ext" / "sub" / "b.txt", b"b")
    art = gittrack.Artifact("refs", "dataset")
    art.add_reference(f"file://{tmp_path / 'ext'}", name="raw")
    paths = [e.path for e in log_artifact(git_repo, art, producer=None).files()]
    assert paths == ["raw/a.txt", "raw/sub/b.txt"]


def test_a_memory_object(git_repo: pygit2.Repository, tmp_path: Path) -> None:
    url = f"memory://refs-{uuid.uuid4().hex}/obj.bin"
    fs = fsspec.filesystem("memory")
    fs.pipe(url, b"in memory")
    art = gittrack.Artifact("refs", "dataset")
    art.add_reference(url)
    version = log_artifact(git_repo, art, producer=None)
    (entry,) = version.files()
    assert entry.ref == url and entry.size == 9 and ":" in entry.digest
    assert (version.download(tmp_path / "out") / "obj.bin").read_bytes() == b"in memory"
    fs.pipe(url, b"replaced!!")
    with pytest.raises(StorageError, match=r"changed since it was logged"):
        version.download(tmp_path / "again")


def test_an_s3_object_uses_its_etag_and_the_project_options(
    git_repo: pygit2.Repository, tmp_path: Path, s3_url: tuple[str, dict[str, str]]
) -> None:
    url, options = s3_url
    config.save_storage(git_repo, url, options, local=True)
    fs = fsspec.filesystem("s3", **options)
    bucket = url.split("/")[2]
    obj = f"s3://{bucket}/external/data.parquet"
    fs.pipe(obj, b"parquet bytes")
    fs.invalidate_cache()
    art = gittrack.Artifact("refs", "dataset")
    art.add_reference(obj)
    version = log_artifact(git_repo, art, producer=None)
    (entry,) = version.files()
    assert entry.digest.startswith("etag:") and entry.size == 13
    assert (version.download(tmp_path / "out") / "data.parquet").read_bytes() == b"parquet bytes"
    fs.pipe(obj, b"other bytes!!")
    fs.invalidate_cache()
    with pytest.raises(StorageError, match=r"changed since it was logged"):
        version.download(tmp_path / "again")


def test_missing_references(git_repo: pygit2.Repository) -> None:
    art = gittrack.Artifact("refs", "dataset")
    art.add_reference(f"memory://gone-{uuid.uuid4().hex}/x")
    with pytest.raises(UsageError, match=r"does not exist"):
        log_artifact(git_repo, art, producer=None)


def test_a_folder_reference_clashing_with_a_file(git_repo: pygit2.Repository,
                                                 tmp_path: Path) -> None:
    old_file(tmp_path / "ext" / "a.txt", b"a")
    art = gittrack.Artifact("refs", "dataset")
    art.add_file(tmp_path / "ext" / "a.txt", name="raw/a.txt")
    art.add_reference(tmp_path / "ext", name="raw")
    with pytest.raises(UsageError, match=r"two files named 'raw/a.txt'"):
        log_artifact(git_repo, art, producer=None)
