"""The local copy of large manifests: filled by lookups, read back, checked, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pygit2
import pytest

from gittrack.artifacts import manifest_cache, versions
from gittrack.artifacts.view import ArtifactVersion
from gittrack.git import objects
from tests.helpers.big_artifacts import file_name, many_files
from tests.helpers.cli import Cli

FILES = 70_000  # a manifest of about 5 MB: above MIN_BYTES


@pytest.fixture
def large(git_repo: pygit2.Repository, repo: Path, tmp_path: Path) -> str:
    """``wide:v0`` of ``FILES`` files; returns its manifest's blob id."""
    info = many_files(repo, "wide", FILES, scratch=tmp_path)
    blob = objects.entry_id(objects.commit_tree(git_repo, info.commit), versions.MANIFEST)
    assert blob is not None and objects.blob_size(git_repo, blob) >= manifest_cache.MIN_BYTES
    return blob


def _copy(repo: pygit2.Repository, blob: str) -> Path:
    return manifest_cache.folder(repo) / f"{blob}.parquet"


def test_a_lookup_keeps_a_copy_that_later_lookups_read(git_repo: pygit2.Repository,
                                                       large: str) -> None:
    version = ArtifactVersion.resolve(git_repo, "wide")
    assert not _copy(git_repo, large).exists()
    assert version.file(file_name(69_999)).path == file_name(69_999)
    raw = objects.read_file(git_repo, objects.commit_tree(git_repo, version.commit),
                            versions.MANIFEST)
    assert _copy(git_repo, large).read_bytes() == raw
    assert manifest_cache.cached(git_repo, large) == raw
    fresh = ArtifactVersion.resolve(git_repo, "wide")
    assert fresh.file_count() == FILES and fresh.first_files(2)[1].path == file_name(1)


def test_whole_reads_do_not_fill_it(git_repo: pygit2.Repository, large: str) -> None:
    assert len(ArtifactVersion.resolve(git_repo, "wide").files()) == FILES
    assert not _copy(git_repo, large).exists()


def test_a_torn_copy_is_ignored_and_replaced(git_repo: pygit2.Repository, large: str) -> None:
    version = ArtifactVersion.resolve(git_repo, "wide")
    version.file_count()
    whole = _copy(git_repo, large).read_bytes()
    _copy(git_repo, large).write_bytes(whole[: len(whole) // 2])
    assert manifest_cache.cached(git_repo, large) is None
    assert ArtifactVersion.resolve(git_repo, "wide").file(file_name(5)).path == file_name(5)
    assert _copy(git_repo, large).read_bytes() == whole


def test_small_manifests_are_not_copied(git_repo: pygit2.Repository) -> None:
    manifest_cache.keep(git_repo, "ab" * 20, b"small")
    assert not manifest_cache.folder(git_repo).exists()


def test_the_least_recently_used_copies_go_first(git_repo: pygit2.Repository,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest_cache, "MAX_BYTES", 3 * manifest_cache.MIN_BYTES)
    data = b"x" * manifest_cache.MIN_BYTES
    for i, blob in enumerate(("a" * 40, "b" * 40, "c" * 40)):
        manifest_cache.keep(git_repo, blob, data)
        os.utime(_copy(git_repo, blob), (1000 + i, 1000 + i))
    manifest_cache.keep(git_repo, "d" * 40, data)
    left = sorted(p.name[:1] for p in manifest_cache.folder(git_repo).iterdir())
    assert left == ["b", "c", "d"]


def test_a_cache_that_cannot_be_written_is_ignored(git_repo: pygit2.Repository,
                                                   large: str) -> None:
    folder = manifest_cache.folder(git_repo)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder would be")
    assert ArtifactVersion.resolve(git_repo, "wide").file(file_name(7)).path == file_name(7)
    assert manifest_cache.cached(git_repo, large) is None


def test_deleting_the_version_drops_its_copy(git_repo: pygit2.Repository, large: str,
                                             cli: Cli) -> None:
    """``artifact rm`` prunes the version's objects: its manifest's copy (file names and
    digests) must not stay readable in the cache either."""
    assert ArtifactVersion.resolve(git_repo, "wide").file(file_name(3)).path == file_name(3)
    assert _copy(git_repo, large).exists()
    result = cli("artifact", "rm", "wide", "--yes")
    assert result.exit_code == 0, result.stderr
    assert objects.blob_size(git_repo, large) is None
    assert not _copy(git_repo, large).exists()
