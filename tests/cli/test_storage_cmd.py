"""`gittrack storage set|unset|show`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import CliResult

Cli = Callable[..., CliResult]


def test_default(cli: Cli, repo: Path) -> None:
    result = cli("storage", "show")
    assert result.exit_code == 0
    assert f"url      {repo / '.git' / 'gittrack' / 'blobs'}" in result.stdout
    assert "default" in result.stdout and "public: no project keys yet" in result.stdout


def test_set_with_options(cli: Cli, repo: Path) -> None:
    result = cli("storage", "set", "s3://bucket/gt", "-o", "endpoint_url=http://127.0.0.1:9",
                 "--option", "anon=false", "-o", "client_kwargs.region_name=eu-west-1",
                 "-o", "max_concurrency=4", "-o", "empty=")
    assert result.exit_code == 0, result.stderr
    assert "s3://bucket/gt (.gittrack/config.yaml)" in result.stdout
    saved = yaml.safe_load((repo / ".gittrack" / "config.yaml").read_text())
    assert saved == {"storage": {"url": "s3://bucket/gt", "options": {
        "endpoint_url": "http://127.0.0.1:9", "anon": False,
        "client_kwargs": {"region_name": "eu-west-1"}, "max_concurrency": 4, "empty": ""}}}
    shown = json.loads(cli("storage", "show", "--json").stdout)
    assert shown["url"] == "s3://bucket/gt" and shown["source"] == "project"
    assert shown["source_path"] == ".gittrack/config.yaml"
    assert "option client_kwargs.region_name  eu-west-1" in cli("storage", "show").stdout


def test_secrets_are_refused_for_the_project_file_and_masked(cli: Cli, repo: Path) -> None:
    result = cli("storage", "set", "s3://b", "-o", "secret=hunter2", "-o", "key=AKIA")
    assert result.exit_code == 2
    assert "secret would be committed" in result.stderr and "--local" in result.stderr
    assert not (repo / ".gittrack" / "config.yaml").exists()
    quiet = cli("storage", "set", "s3://b", "-o", "secret=hunter2", "-o", "key=AKIA",
                "--local")
    assert quiet.stderr == "" and "hunter2" not in quiet.stdout
    for args in (("storage", "show"), ("storage", "show", "--json")):
        out = cli(*args).stdout
        assert "hunter2" not in out and "********" in out and "AKIA" in out


@pytest.mark.parametrize("option", [
    "endpoint_url=https://bob:SECRETE@minio",
    "client_kwargs.proxies.https=http://u:SECRETE@proxy",
    "endpoint_url=https://minio/?X-Amz-Signature=SECRETE",
    "client_kwargs.aws_session_token=SECRETE",
    "sessionid=SECRETE", "apikey=SECRETE", "config_kwargs.auth=SECRETE",
    # a mapping given inline was kept as text, hiding its keys (second review)
    'client_kwargs={"aws_secret_access_key": "SECRETE"}',
    'headers={"Authorization": "Bearer SECRETE"}', "storage_options={password: SECRETE}",
])
def test_credentials_in_options_never_reach_git_objects(cli: Cli, repo: Path,
                                                        option: str) -> None:
    """Issue 8: URLs with credentials in (nested) option values went into the committed
    file without a word, and ``storage show`` printed them."""
    from tests.helpers.repos import git, git_objects_contain

    refused = cli("storage", "set", "s3://b", "-o", option)
    assert refused.exit_code == 2 and "--local" in refused.stderr
    assert "SECRETE" not in refused.stderr
    assert cli("storage", "set", "s3://b", "-o", "anon=true").exit_code == 0
    git(repo, "add", ".gittrack")
    git(repo, "commit", "-qm", "storage")
    assert not git_objects_contain(repo, b"SECRETE")
    assert cli("storage", "set", "s3://b", "-o", option, "--local").exit_code == 0
    for args in (("storage", "show"), ("storage", "show", "--json")):
        shown = cli(*args)
        assert shown.exit_code == 0 and "SECRETE" not in shown.stdout


def test_a_teammates_committed_secrets_are_masked(cli: Cli, repo: Path) -> None:
    (repo / ".gittrack").mkdir()
    (repo / ".gittrack" / "config.yaml").write_text(
        "storage: {url: s3://b, options: {endpoint_url: 'https://bob:SECRETE@minio', "
        "client_kwargs: {proxies: {https: 'http://u:SECRETP@proxy'}}, token: anon}}\n")
    for args in (("storage", "show"), ("storage", "show", "--json")):
        shown = cli(*args)
        assert shown.exit_code == 0
        assert "SECRETE" not in shown.stdout and "SECRETP" not in shown.stdout
        assert "https://minio" in shown.stdout and "anon" in shown.stdout


def test_local_override_and_unset(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("storage", "set", "gs://team/x")
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert cli("storage", "set", "../../mine", "--local").exit_code == 0
    shown = cli("storage", "show")
    assert f"url      {(repo.parent / 'mine')}" in shown.stdout
    assert "this clone's override (.git/gittrack/config.yaml)" in shown.stdout
    assert "gs://team/x" in cli("storage", "unset", "--local").stdout
    assert "nothing to remove" in cli("storage", "unset", "--local").stdout


def test_a_relative_folder_is_stored_relative_to_the_repository(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    cli("storage", "set", "../../shared")
    saved = yaml.safe_load((repo / ".gittrack" / "config.yaml").read_text())
    assert saved["storage"]["url"] == "../shared"


def test_errors(cli: Cli, repo: Path) -> None:
    unknown = cli("storage", "set", "nosuch://x")
    assert unknown.exit_code == 8 and "unknown storage protocol 'nosuch'" in unknown.stderr
    bad = cli("storage", "set", "s3://b", "-o", "novalue")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr
    clash = cli("storage", "set", "s3://b", "-o", "a=1", "-o", "a.b=2")
    assert clash.exit_code == 2
    assert not (repo / ".gittrack" / "config.yaml").exists()


def test_credentials_in_the_url_are_refused_and_never_shown(cli: Cli, repo: Path) -> None:
    refused = cli("storage", "set", "https://alice:hunter2@[::1]:8080/store?sig=SAS2")
    assert refused.exit_code == 2
    assert "the URL's credentials would be committed" in refused.stderr
    assert "hunter2" not in refused.stderr and "SAS2" not in refused.stderr
    result = cli("storage", "set", "https://alice:hunter2@[::1]:8080/store?sig=SAS2", "--local")
    assert result.exit_code == 0, result.stderr
    assert "https://[::1]:8080/store" in result.stdout
    shown = cli("storage", "show")
    assert "hunter2" not in result.stdout + shown.stdout + result.stderr
    assert "SAS2" not in result.stdout + shown.stdout + result.stderr
    assert "credentials" not in cli("storage", "set", "https://h/store").stderr


def test_set_never_writes_what_every_later_read_refuses(cli: Cli, repo: Path) -> None:
    """``-o endpoint_url={a: 1}`` was written, then every command exited 6 on the file."""
    refused = cli("storage", "set", "s3://b", "-o", "endpoint_url={a: 1}")
    assert refused.exit_code == 2 and "endpoint_url" in refused.stderr, refused.stderr
    assert not (repo / ".gittrack" / "config.yaml").exists()
    made = cli("storage", "set", "s3://b", "-o", "client_kwargs={region_name: eu-west-1}")
    assert made.exit_code == 0, made.stderr
    shown = cli("storage", "show", "--json")
    assert shown.exit_code == 0 and "eu-west-1" in shown.stdout
