"""Logging artifacts into a repository: configured stores, privacy, and nothing half-written."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pygit2
import pytest

import gittrack
from gittrack.artifacts import versions
from gittrack.artifacts.publish import log_artifact
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import KeyMissingError, StorageError, UsageError
from gittrack.storage import config
from tests.helpers.storage import Location, old_file, sha


def dataset(tmp_path: Path, content: bytes = b"1,2,3\n", name: str = "data") -> gittrack.Artifact:
    art = gittrack.Artifact(name, "dataset")
    art.add_file(old_file(tmp_path / "src" / "train.csv", content))
    return art


def use_store(repo: pygit2.Repository, where: Location) -> None:
    config.save_storage(repo, where[0], where[1], local=False)


def test_log_to_each_configured_store(git_repo: pygit2.Repository, location: Location,
                                      tmp_path: Path) -> None:
    use_store(git_repo, location)
    version = log_artifact(git_repo, dataset(tmp_path), producer=None, aliases=["best"])
    assert (version.spec, version.aliases) == ("data:v0", ["latest", "best"])
    fresh = ArtifactVersion.resolve(git_repo, "data:best")  # a new storage, caches kept
    assert (fresh.download(tmp_path / "out") / "train.csv").read_bytes() == b"1,2,3\n"


def test_identical_content_returns_the_existing_version(git_repo: pygit2.Repository,
                                                        tmp_path: Path) -> None:
    first = log_artifact(git_repo, dataset(tmp_path), producer="r1")
    again = log_artifact(git_repo, dataset(tmp_path), producer="r2", aliases="prod")
    assert again == first and again.producer == "r1" and "prod" in again.aliases
    changed = log_artifact(git_repo, dataset(tmp_path, b"4,5,6\n"), producer="r3")
    assert (changed.version, changed.producer) == (1, "r3")


def test_private_projects_encrypt(private_repo: pygit2.Repository, tmp_path: Path) -> None:
    version = log_artifact(private_repo, dataset(tmp_path), producer=None)
    entry = version.files()[0]
    assert entry.blob != sha(b"1,2,3\n")
    stored = Path(private_repo.path) / "gittrack" / "blobs" / entry.blob[:2] / entry.blob[2:]
    assert stored.read_bytes().startswith(b"age-encryption.org/v1")
    out = ArtifactVersion.resolve(private_repo, "data").download(tmp_path / "out")
    assert (out / "train.csv").read_bytes() == b"1,2,3\n"


def test_without_a_key_of_ones_own(private_repo: pygit2.Repository, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    log_artifact(private_repo, dataset(tmp_path), producer=None)
    monkeypatch.setenv("GITTRACK_IDENTITY_FILE", str(tmp_path / "nobody.txt"))
    stranger = ArtifactVersion.resolve(private_repo, "data")
    with pytest.raises(KeyMissingError,
                       match=r"^artifact data:v0, file train.csv: .*gittrack keys init"):
        stranger.download(tmp_path / "out")
    assert not (tmp_path / "out" / "train.csv").exists()
    with pytest.raises(KeyMissingError):
        log_artifact(private_repo, dataset(tmp_path, b"other"), producer=None)
    head = versions.head(private_repo, "data")
    assert head is not None and versions.read_info(private_repo, head, "data").version == 0


def test_public_by_config_even_with_keys(private_repo: pygit2.Repository, repo: Path,
                                         tmp_path: Path) -> None:
    (repo / ".gittrack" / "config.yaml").write_text("privacy: public\n")
    entry = log_artifact(private_repo, dataset(tmp_path), producer=None).files()[0]
    assert entry.blob == entry.digest


@pytest.mark.parametrize("refusal", ["under-a-file", "no-bucket"])
def test_no_version_when_the_store_refuses_writes(git_repo: pygit2.Repository, tmp_path: Path,
                                                  refusal: str,
                                                  request: pytest.FixtureRequest) -> None:
    if refusal == "under-a-file":
        (tmp_path / "a-file").write_text("x")
        use_store(git_repo, (str(tmp_path / "a-file" / "store"), {}))
    else:
        _, options = request.getfixturevalue("s3_url")
        use_store(git_repo, (f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/x", options))
    with pytest.raises(StorageError, match=r"^artifact data"):
        log_artifact(git_repo, dataset(tmp_path), producer=None, aliases=["best"])
    assert versions.list_artifacts(git_repo) == {}
    assert list(git_repo.references) == ["refs/heads/main"]


def test_refusals_before_any_work(git_repo: pygit2.Repository, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"has no files"):
        log_artifact(git_repo, gittrack.Artifact("empty", "dataset"), producer=None)
    with pytest.raises(UsageError, match=r"cannot be an alias"):
        log_artifact(git_repo, dataset(tmp_path), producer=None, aliases=["v1"])
    with pytest.raises(UsageError, match=r"takes a gittrack.Artifact"):
        log_artifact(git_repo, "data", producer=None)  # type: ignore[arg-type]
    assert versions.list_artifacts(git_repo) == {}


def test_latest_alias_is_accepted_and_not_stored(git_repo: pygit2.Repository,
                                                 tmp_path: Path) -> None:
    version = log_artifact(git_repo, dataset(tmp_path), producer=None, aliases=["latest"])
    assert version.aliases == ["latest"]
    assert not any("aliases" in ref for ref in git_repo.references)


def test_a_file_that_vanished_after_add(git_repo: pygit2.Repository, tmp_path: Path) -> None:
    art = dataset(tmp_path)
    (tmp_path / "src" / "train.csv").unlink()
    with pytest.raises(UsageError, match=r"train.csv"):
        log_artifact(git_repo, art, producer=None)
    assert versions.list_artifacts(git_repo) == {}


def test_an_unknown_store_protocol(git_repo: pygit2.Repository, tmp_path: Path) -> None:
    use_store(git_repo, ("nosuch://bucket/x", {}))
    with pytest.raises(StorageError, match=r"unknown storage protocol 'nosuch'"):
        log_artifact(git_repo, dataset(tmp_path), producer=None)
    assert versions.list_artifacts(git_repo) == {}


def test_old_blobs_stay_readable_when_privacy_changes(
    git_repo: pygit2.Repository, repo: Path, tmp_path: Path
) -> None:
    from gittrack.crypto.keys import Keyring, init_user_identity

    log_artifact(git_repo, dataset(tmp_path, b"public era"), producer=None)
    Keyring.for_repo(git_repo).init("me", init_user_identity()[0])
    log_artifact(git_repo, dataset(tmp_path, b"private era"), producer=None)
    (repo / ".gittrack" / "config.yaml").write_text("privacy: public\n")
    log_artifact(git_repo, dataset(tmp_path, b"public again"), producer=None)
    blobs = [ArtifactVersion.resolve(git_repo, f"data:v{n}").files()[0] for n in range(3)]
    assert [b.blob == b.digest for b in blobs] == [True, False, True]
    for n, content in enumerate([b"public era", b"private era", b"public again"]):
        out = ArtifactVersion.resolve(git_repo, f"data:v{n}").download(tmp_path / f"v{n}")
        assert (out / "train.csv").read_bytes() == content


def test_an_encrypted_blob_without_keys(private_repo: pygit2.Repository, repo: Path,
                                        tmp_path: Path) -> None:
    log_artifact(private_repo, dataset(tmp_path), producer=None)
    shutil.rmtree(repo / ".gittrack" / "keys")  # e.g. a branch without the keyring
    with pytest.raises(KeyMissingError, match=r"artifact data:v0, file train.csv: .*no keys"):
        ArtifactVersion.resolve(private_repo, "data").download(tmp_path / "out")


def test_sources_in_a_folder_that_is_not_utf8_log_under_their_name(
        git_repo: pygit2.Repository, tmp_path: Path) -> None:
    """docs/artifacts.md: ``name=`` is what a file in a latin-1 folder needs; its path is only
    local state (the stat cache), and logging raised UnicodeEncodeError there."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9"))
    old_file(folder / "f.bin", b"weights")
    old_file(folder / "sub" / "g.bin", b"more")
    art = gittrack.Artifact("model", "model")
    art.add_file(folder / "f.bin", name="ok.bin")
    art.add_dir(folder / "sub", name="okdir")
    version = log_artifact(git_repo, art, producer=None)
    out = ArtifactVersion.resolve(git_repo, version.spec).download(tmp_path / "out")
    assert (out / "ok.bin").read_bytes() == b"weights"
    assert (out / "okdir" / "g.bin").read_bytes() == b"more"


def test_artifact_yaml_that_a_reader_could_not_load_is_refused(
    git_repo: pygit2.Repository, tmp_path: Path
) -> None:
    """Regression: a 20M-character description, or 17 MB of metadata, was accepted and the
    version then skipped by every reader. Refused by Artifact(), and — metadata changed
    afterwards — by log_artifact before anything is written."""
    from gittrack.errors import InvalidValueError, NotFoundError
    from gittrack.formats.values import MAX_DOCUMENT_BYTES, MAX_FIELD_BYTES

    with pytest.raises(InvalidValueError, match=f"description .* {MAX_FIELD_BYTES:,}"):
        gittrack.Artifact("data", "dataset", description="x" * 20_000_000)
    big = {f"k{i}": "y" * 1_000_000 for i in range(17)}
    with pytest.raises(InvalidValueError, match=f"metadata in .* {MAX_DOCUMENT_BYTES:,}"):
        gittrack.Artifact("data", "dataset", metadata=big)
    art = dataset(tmp_path)
    art.metadata.update(big)
    with pytest.raises(InvalidValueError, match=r"data:v0: artifact\.yaml would take"):
        log_artifact(git_repo, art, producer=None)
    with pytest.raises(NotFoundError):
        ArtifactVersion.resolve(git_repo, "data:latest")
    art.metadata.clear()
    art.description = "d" * 1_000_000
    assert log_artifact(git_repo, art, producer=None).spec == "data:v0"
    assert ArtifactVersion.resolve(git_repo, "data:v0").description == "d" * 1_000_000
