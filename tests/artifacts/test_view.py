"""ArtifactVersion: fields, download (default root, cache, verified, atomic), path()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
import pytest

import gittrack
from gittrack.artifacts.publish import log_artifact
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import DecryptionError, NotFoundError
from tests.artifacts.conftest import old_file


@pytest.fixture
def version(git_repo: pygit2.Repository, tmp_path: Path) -> ArtifactVersion:
    src = tmp_path / "src"
    old_file(src / "a.txt", b"alpha")
    old_file(src / "nested" / "b.bin", b"\0beta" * 1000)
    art = gittrack.Artifact("model", "model", description="a net", metadata={"layers": 3})
    art.add_dir(src)
    return log_artifact(git_repo, art, producer="run-1", aliases=["best"])


def test_fields(version: ArtifactVersion) -> None:
    assert (version.name, version.version, version.spec, version.type) == (
        "model", 0, "model:v0", "model")
    assert (version.description, version.metadata, version.producer) == ("a net", {"layers": 3},
                                                                         "run-1")
    assert version.size == 5 + 5000 and version.aliases == ["latest", "best"]
    assert [e.path for e in version.files()] == ["a.txt", "nested/b.bin"]
    doc = version.to_dict()
    assert doc["commit"] == version.commit and doc["aliases"] == ["latest", "best"]
    assert repr(version) == "<gittrack.ArtifactVersion model:v0 type='model'>"
    assert str(version) == "model:v0"


def test_download_to_the_default_root(version: ArtifactVersion, repo: Path) -> None:
    root = version.download()
    assert root == repo / "artifacts" / "model-v0"
    assert (root / "nested" / "b.bin").read_bytes() == b"\0beta" * 1000
    assert version.path("a.txt") == root / "a.txt"


def test_path_downloads_one_file(git_repo: pygit2.Repository, version: ArtifactVersion,
                                 repo: Path) -> None:
    fresh = ArtifactVersion.resolve(git_repo, "model:best")
    assert fresh.path("a.txt").read_bytes() == b"alpha"
    assert not (repo / "artifacts" / "model-v0" / "nested").exists()
    with pytest.raises(NotFoundError, match=r"no file 'c.txt' \(files: a.txt, nested/b.bin\)"):
        fresh.path("c.txt")


def test_other_files_in_the_root_are_kept(version: ArtifactVersion, tmp_path: Path) -> None:
    out = tmp_path / "out"
    old_file(out / "mine.txt", b"keep me")
    old_file(out / "a.txt", b"stale")
    version.download(out)
    assert (out / "mine.txt").read_bytes() == b"keep me"
    assert (out / "a.txt").read_bytes() == b"alpha"


def test_downloads_come_from_the_cache_and_are_verified(
    git_repo: pygit2.Repository, version: ArtifactVersion, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version.download(tmp_path / "one")
    fresh = ArtifactVersion.resolve(git_repo, "model:v0")
    storage = fresh._storage_()
    calls: list[Any] = []
    monkeypatch.setattr(storage.store, "get_file", lambda *a: calls.append(a))
    fresh.download(tmp_path / "two")
    assert calls == [] and (tmp_path / "two" / "a.txt").read_bytes() == b"alpha"


def test_damaged_store_and_cache_leave_no_wrong_bytes(
    git_repo: pygit2.Repository, version: ArtifactVersion, tmp_path: Path
) -> None:
    entry = version.files()[0]
    assert entry.blob is not None
    store = Path(git_repo.path) / "gittrack" / "blobs" / entry.blob[:2] / entry.blob[2:]
    store.write_bytes(b"ALPHA")  # same size, other bytes
    with pytest.raises(DecryptionError, match=r"artifact model:v0, file a.txt"):
        version.download(tmp_path / "out")
    assert not (tmp_path / "out" / "a.txt").exists()
    assert [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()] in (
        [], ["b.bin"])  # the other file may have been fetched, never a partial or wrong one
