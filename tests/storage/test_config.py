"""Project and local storage configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittrack.errors import FormatError, InvalidSettingError, RepositoryError, StorageError
from gittrack.storage import config


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


@pytest.mark.parametrize(("doc", "named"), [
    ('storage: {url: "s3://b", options: {endpoint_url: {a: 1}}}', "storage.options.endpoint_url"),
    ('storage: {url: "s3://b", options: {client_kwargs: {endpoint_url: [1]}}}',
     "storage.options.client_kwargs.endpoint_url"),
    ('storage: {url: "s3://b", options: {anon: "yes"}}', "storage.options.anon"),
    ('storage: {url: "s3://b", options: {max_concurrency: "4"}}',
     "storage.options.max_concurrency"),
    ('storage: {url: "s3://b", options: {client_kwargs: 3}}', "storage.options.client_kwargs"),
    ('storage: {url: "s3://b", options: {1: 2}}', "storage.options"),
    ('storage: {url: "s3://b", options: {x: [{a: 1}]}}', "storage.options.x"),
    ('storage: {url: "s3://b", options: {x: 2024-01-01}}', "storage.options.x"),
    ('storage: {url: ["s3://b"]}', "storage must be"),
])
def test_a_malformed_project_file_names_the_option(git_repo: pygit2.Repository, repo: Path,
                                                   doc: str, named: str) -> None:
    """Issue 8: ``endpoint_url: {a: 1}`` in a teammate's commit gave exit 70 (botocore's
    ``TypeError: unhashable type``) on the first request of ``gc``."""
    (repo / ".gittrack").mkdir()
    (repo / ".gittrack" / "config.yaml").write_text(doc + "\n")
    with pytest.raises(FormatError, match=named.replace(".", r"\.")) as raised:
        config.load_config(git_repo)
    assert "config.yaml" in str(raised.value) and "\n" not in str(raised.value)


def test_a_malformed_project_file_is_a_one_line_error_for_commands(repo: Path) -> None:
    import subprocess
    import sys

    (repo / ".gittrack").mkdir()
    (repo / ".gittrack" / "config.yaml").write_text(
        'storage: {url: "s3://b", options: {endpoint_url: {a: 1}}}\n')
    for args in (("gc", "--dry-run"), ("storage", "show"), ("artifact", "ls"), ("runs",)):
        done = subprocess.run([sys.executable, "-m", "gittrack.cli.main", *args], cwd=repo,
                              capture_output=True, text=True)
        if done.returncode:  # commands that never open the store work
            assert done.returncode == 6, (args, done.stderr)
            assert done.stderr.count("\n") == 1 and "endpoint_url" in done.stderr


_YAML_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=20))
_YAML_VALUE = st.recursive(_YAML_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(
        ["endpoint_url", "anon", "client_kwargs", "key", "max_concurrency", "proxies",
         "url", "options", "storage", "privacy", "auto_mkdir"]), st.text(max_size=8),
        st.integers()), inner, max_size=4)), max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=st.one_of(
    _YAML_VALUE,
    st.fixed_dictionaries({"storage": st.fixed_dictionaries({
        "url": st.one_of(st.sampled_from(["memory://gt", "store", "file:///tmp/x", ""]),
                         _YAML_VALUE),
        "options": _YAML_VALUE})}),
    st.text(max_size=60)))
def test_any_yaml_document_gives_a_config_or_a_gittrack_error(
        git_repo: pygit2.Repository, repo: Path, cli: Any, doc: object) -> None:
    """Whatever a teammate commits as config.yaml: a config fsspec can open, or one
    gittrack error (a FormatError naming the file, or a StorageError from the backend)."""
    import yaml

    from gittrack.blobs.store import BlobStore
    from gittrack.errors import GittrackError

    (repo / ".gittrack").mkdir(exist_ok=True)
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc)
    (repo / ".gittrack" / "config.yaml").write_text(text, errors="surrogatepass")
    try:
        effective = config.load_config(git_repo)
        config.mask_options(effective.options)
        config.secret_keys(effective.options)
        if effective.url.startswith("memory://") or "://" not in effective.url:
            BlobStore.from_url(effective.url, effective.options)
    except GittrackError as exc:
        assert "\n" not in str(exc)
    for args in (("storage", "show"), ("storage", "show", "--json"), ("gc", "--dry-run")):
        if args[0] == "gc" and "://" in text and "memory://" not in text:
            continue  # no network in a property test
        result = cli(*args)
        assert result.exit_code in (0, 6, 8), (args, result.stderr)
        assert result.exit_code == 0 or result.stderr.count("\n") == 1, result.stderr


def test_save_code_from_either_file_the_local_one_winning(
    git_repo: pygit2.Repository, repo: Path
) -> None:
    assert config.load_config(git_repo).save_code is None
    project = repo / ".gittrack" / "config.yaml"
    project.parent.mkdir()
    project.write_text("save_code: true\n")
    assert config.load_config(git_repo).save_code is True
    config.save_storage(git_repo, "gs://b", {}, local=False)  # other keys kept
    assert config.load_config(git_repo).to_dict()["save_code"] is True
    config.local_config_path(git_repo).parent.mkdir(parents=True, exist_ok=True)
    config.local_config_path(git_repo).write_text("save_code: false\n")
    assert config.load_config(git_repo).save_code is False
    project.write_text("save_code: 'yes'\n")
    with pytest.raises(FormatError, match=r"config.yaml: save_code must be true or false, "
                                          r"got 'yes'"):
        config.load_config(git_repo)
