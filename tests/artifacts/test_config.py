"""Project and local storage configuration."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gittrack.artifacts import config
from gittrack.errors import FormatError, InvalidSettingError, RepositoryError, StorageError


def test_default_is_a_folder_inside_git(git_repo: pygit2.Repository) -> None:
    effective = config.load_config(git_repo)
    assert effective.url == str(Path(git_repo.path) / "gittrack" / "blobs")
    assert (effective.source, effective.source_path, effective.privacy) == ("default", None, None)


def test_local_overrides_project(git_repo: pygit2.Repository, repo: Path) -> None:
    config.save_storage(git_repo, "s3://team/x", {"profile": "ml"}, local=False)
    assert config.load_config(git_repo).url == "s3://team/x"
    config.save_storage(git_repo, "s3://mine/y", {}, local=True)
    effective = config.load_config(git_repo)
    assert (effective.url, dict(effective.options), effective.source) == ("s3://mine/y", {},
                                                                          "local")
    assert config.remove_storage(git_repo, local=True) is not None
    assert config.load_config(git_repo).options == {"profile": "ml"}
    assert config.remove_storage(git_repo, local=True) is None


def test_save_keeps_other_keys_and_the_local_file_is_private(
    git_repo: pygit2.Repository, repo: Path
) -> None:
    project = repo / ".gittrack" / "config.yaml"
    project.parent.mkdir()
    project.write_text("privacy: public\n")
    config.save_storage(git_repo, "gs://b", {}, local=False)
    assert "privacy: public" in project.read_text()
    assert config.load_config(git_repo).privacy == "public"
    path = config.save_storage(git_repo, "gs://b", {"token": "t"}, local=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert project.stat().st_mode & 0o777 == 0o644


def test_relative_paths_are_relative_to_the_repository(
    git_repo: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.save_storage(git_repo, "../shared-store", {}, local=False)
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert config.load_config(git_repo).url == str(repo / ".." / "shared-store")


def test_privacy_cannot_be_set_locally(git_repo: pygit2.Repository) -> None:
    local = config.local_config_path(git_repo)
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text("privacy: public\n")
    with pytest.raises(InvalidSettingError, match=r"privacy can only be set"):
        config.load_config(git_repo)


@pytest.mark.parametrize("text", ["storage: 3\n", "storage: {options: {}}\n", "privacy: maybe\n",
                                  "- a list\n", "storage: {url: [\n"])
def test_malformed_files(git_repo: pygit2.Repository, repo: Path, text: str) -> None:
    path = repo / ".gittrack" / "config.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(FormatError, match=r"config.yaml"):
        config.load_config(git_repo)


def test_a_bare_repository_has_only_the_local_file(tmp_path: Path) -> None:
    bare = pygit2.init_repository(str(tmp_path / "bare.git"), bare=True)
    with pytest.raises(RepositoryError, match=r"--local"):
        config.save_storage(bare, "s3://x", {}, local=False)
    config.save_storage(bare, "s3://x", {}, local=True)
    assert config.load_config(bare).url == "s3://x"


def test_masking() -> None:
    options = {"key": "AKIA", "secret": "s", "client_kwargs": {"aws_session_token": "t"},
               "account_key": "k", "password": None, "endpoint_url": "http://x"}
    masked = config.mask_options(options)
    assert masked == {"key": "AKIA", "secret": config.MASK,
                      "client_kwargs": {"aws_session_token": config.MASK},
                      "account_key": config.MASK, "password": None, "endpoint_url": "http://x"}
    # a null password holds nothing; an endpoint with credentials does
    assert config.secret_keys(options) == ["secret", "client_kwargs.aws_session_token",
                                           "account_key"]
    assert config.secret_keys({"c": {"proxies": {"https": "http://u:p@proxy"}}}) == [
        "c.proxies.https"]
    assert config.mask_options({"endpoint_url": "https://u:pw@minio/"}) == {
        "endpoint_url": "https://minio/"}
    assert config.display_url("https://u:pw@host/x") == "https://host/x"


def test_protocols() -> None:
    assert config.check_protocol("/some/folder") is None
    assert config.check_protocol("s3://bucket/x") is None
    assert config.check_protocol("memory://x") is None
    with pytest.raises(StorageError, match=r"unknown storage protocol 'nosuch'"):
        config.check_protocol("nosuch://x")


@pytest.mark.parametrize("local", [False, True])
def test_a_value_that_cannot_be_written_leaves_no_file(
    git_repo: pygit2.Repository, repo: Path, local: bool
) -> None:
    config.save_storage(git_repo, "s3://bucket/a", {"region": "eu"}, local=local)
    path = config.local_config_path(git_repo) if local else config.project_config_path(git_repo)
    assert path is not None
    before = sorted(path.parent.iterdir())
    with pytest.raises(InvalidSettingError, match=r"'\\udce9' is not UTF-8"):
        config.save_storage(git_repo, "s3://bucket/caf\udce9", {}, local=local)
    assert sorted(path.parent.iterdir()) == before
    assert config.load_config(git_repo).url == "s3://bucket/a"
