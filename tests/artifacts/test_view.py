"""ArtifactVersion: fields, download (default root, cache, verified, atomic), path()."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pygit2
import pytest

import gittrack
from gittrack.artifacts.publish import log_artifact
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import DecryptionError, FormatError, NotFoundError, UsageError
from tests.helpers.big_artifacts import content, file_name, many_files
from tests.helpers.storage import old_file


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


@pytest.mark.parametrize("where", ["folder", "nested", "default"])
def test_a_symlink_in_the_target_never_leads_a_download_outside(
        version: ArtifactVersion, tmp_path: Path, repo: Path, where: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = repo / "artifacts" / "model-v0" if where == "default" else tmp_path / "out"
    root.mkdir(parents=True)
    link = root / "nested"
    if where == "nested":  # a link deeper down: root/nested -> root/inner -> outside
        (root / "inner").symlink_to(outside, target_is_directory=True)
        link.symlink_to(root / "inner", target_is_directory=True)
    else:
        link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(UsageError, match=r"nested.*leads out of"):
        version.download(None if where == "default" else root)
    assert list(outside.iterdir()) == []
    if where == "default":
        with pytest.raises(UsageError, match=r"leads out of"):
            version.path("nested/b.bin")
        assert list(outside.iterdir()) == []


def test_a_default_root_that_is_a_symlink_leading_out_is_refused(
        version: ArtifactVersion, tmp_path: Path, repo: Path) -> None:
    """Issue 8: a committed ``artifacts/model-v0 -> /elsewhere`` made ``download()`` and
    ``.path()`` write outside the repository (a link one level deeper was refused)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "artifacts").mkdir()
    (repo / "artifacts" / "model-v0").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UsageError, match=r"model-v0 leads out of"):
        version.download()
    with pytest.raises(UsageError, match=r"model-v0 leads out of"):
        version.path("a.txt")
    assert list(outside.iterdir()) == []
    result = subprocess.run([sys.executable, "-m", "gittrack.cli.main", "artifact", "get",
                             "model:v0"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 2 and "leads out of" in result.stderr
    assert list(outside.iterdir()) == []


def test_a_default_root_linked_inside_or_through_a_linked_artifacts_folder_works(
        version: ArtifactVersion, tmp_path: Path, repo: Path) -> None:
    """``artifacts`` itself may be a link (to a data disk): the folder is where the user put
    it; ``artifacts/model-v0`` linked to another folder inside it is followed too."""
    disk = tmp_path / "disk"
    (disk / "real").mkdir(parents=True)
    (repo / "artifacts").symlink_to(disk, target_is_directory=True)
    (disk / "model-v0").symlink_to(disk / "real", target_is_directory=True)
    version.download()
    assert (disk / "real" / "a.txt").read_bytes() == b"alpha"


def test_a_symlink_inside_the_target_is_followed(version: ArtifactVersion,
                                                 tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "real").mkdir(parents=True)
    (root / "nested").symlink_to(root / "real", target_is_directory=True)
    version.download(root)
    assert (root / "real" / "b.bin").read_bytes() == b"\0beta" * 1000


def test_a_forged_manifest_cannot_escape_through_download(git_repo: pygit2.Repository,
                                                          tmp_path: Path) -> None:
    """A manifest edited on a remote, written with plain pyarrow (no gittrack checks)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.helpers.forge_artifacts import DIGEST, forge, good_doc

    for bad in ("../escape", "/abs", "a/../../b", "a\\..\\b", "nul\0x", "./a", "a//b"):
        table = pa.table({"path": [bad], "digest": [DIGEST], "size": [1], "blob": [DIGEST],
                          "ref": pa.array([None], pa.string())})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        forge(git_repo, "model", good_doc(), sink.getvalue().to_pybytes())
        with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/model"):
            ArtifactVersion.resolve(git_repo, "model").download(tmp_path / "out")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "out").exists()


def test_default_root_is_one_folder_under_artifacts(version: ArtifactVersion,
                                                   repo: Path) -> None:
    assert version.default_root().parent == repo / "artifacts"


def test_a_full_disk_during_a_download_names_the_file(git_repo: pygit2.Repository, repo: Path,
                                                      tmp_path: Path, small_disk: Path) -> None:
    """Issue 8: ``artifact get -o`` on a full disk said only "No space left on device" (exit
    74), ``download()`` raised a raw OSError [Errno 28]."""
    from gittrack.errors import StorageError
    from tests.helpers.disks import fill, unfill

    src = tmp_path / "src"
    old_file(src / "big.bin", os.urandom(1 << 20))
    art = gittrack.Artifact("big", "model")
    art.add_dir(src)
    version = log_artifact(git_repo, art, producer="run-1")
    fill(small_disk, leave=200_000)
    out = small_disk / "out"
    with pytest.raises(StorageError, match=r"cannot write .*big\.bin.*No space left") as raised:
        version.download(out)
    assert "\n" not in str(raised.value) and "artifact big:v0" in str(raised.value)
    assert [p.name for p in out.iterdir()] == []  # no partial file, no temporary one
    result = subprocess.run([sys.executable, "-m", "gittrack.cli.main", "artifact", "get",
                             "big:v0", "-o", str(out)], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 8, result.stderr
    assert "big.bin" in result.stderr and "No space left on device" in result.stderr
    assert [p.name for p in out.iterdir()] == []
    unfill(small_disk)
    assert version.download(out) == out
    assert (out / "big.bin").read_bytes() == (src / "big.bin").read_bytes()


def test_a_full_disk_under_the_cache_names_the_file(small_disk: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository (its temporary files and blob cache) on the full disk, the target
    elsewhere: the error names the file gittrack could not write, nothing partial is left."""
    from gittrack.errors import StorageError
    from gittrack.storage import config
    from tests.helpers.disks import fill, unfill
    from tests.helpers.repos import make_repo

    repo = make_repo(small_disk / "project")
    monkeypatch.chdir(repo)
    git_repo = pygit2.Repository(str(repo))
    config.save_storage(git_repo, f"memory://{tmp_path.name}/store", {}, local=True)
    src = tmp_path / "src"
    old_file(src / "big.bin", os.urandom(1 << 20))
    art = gittrack.Artifact("big", "model")
    art.add_dir(src)
    version = log_artifact(git_repo, art, producer="run-1")
    for cached in (repo / ".git" / "gittrack" / "cache").rglob("*"):
        if cached.is_file() and cached.stat().st_size == 1 << 20:
            cached.unlink()
    fill(small_disk, leave=100_000)
    out = tmp_path / "out"
    with pytest.raises(StorageError, match=r"big:v0, file big\.bin: cannot write .*"
                                           r"No space left on device"):
        version.download(out)
    assert not (out / "big.bin").exists()
    unfill(small_disk)
    version.download(out)
    assert (out / "big.bin").read_bytes() == (src / "big.bin").read_bytes()


# -- a version of many files (issue 10) --------------------------------------------------------

@pytest.fixture
def many(repo: Path, tmp_path: Path) -> int:
    """``many:v0``: 20,000 files (0 and 12,345 stored); returns the count."""
    many_files(repo, "many", 20_000, scratch=tmp_path, stored=[0, 12_345])
    return 20_000


def test_one_file_of_many(git_repo: pygit2.Repository, many: int, repo: Path) -> None:
    version = ArtifactVersion.resolve(git_repo, "many")
    assert version.file_count() == many
    entry = version.file(file_name(12_345))
    assert (entry.path, entry.size) == (file_name(12_345), len(content(12_345)))
    path = version.path(file_name(12_345))
    assert path == repo / "artifacts" / "many-v0" / file_name(12_345)
    assert path.read_bytes() == content(12_345)
    assert sorted(p.name for p in (repo / "artifacts" / "many-v0").rglob("*.bin")) == \
        [path.name]  # that file only
    elsewhere = repo / "elsewhere"
    assert version.path(file_name(0), elsewhere) == elsewhere / file_name(0)


def test_first_files_and_a_missing_file_of_many(git_repo: pygit2.Repository,
                                                many: int) -> None:
    version = ArtifactVersion.resolve(git_repo, "many")
    assert [e.path for e in version.first_files(3)] == [file_name(i) for i in range(3)]
    with pytest.raises(NotFoundError, match=r"no file 'nope' \(files: shard-0000/file-0000000"
                                            r".bin, .*, \.\.\. \(19,990 more\)\)"):
        version.file("nope")
    assert version.files()[:3] == version.first_files(3)  # the same rows as a whole read
    assert version.file(file_name(19_999)) == version.files()[-1]
