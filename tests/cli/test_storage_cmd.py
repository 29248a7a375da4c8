"""`gittrack storage set|unset|show`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliResult

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


def test_secrets_are_masked_and_warned_about(cli: Cli, repo: Path) -> None:
    result = cli("storage", "set", "s3://b", "-o", "secret=hunter2", "-o", "key=AKIA")
    assert "secret will be committed" in result.stderr and "--local" in result.stderr
    for args in (("storage", "show"), ("storage", "show", "--json")):
        out = cli(*args).stdout
        assert "hunter2" not in out and "********" in out and "AKIA" in out
    quiet = cli("storage", "set", "s3://b", "-o", "secret=hunter2", "--local")
    assert quiet.stderr == "" and "hunter2" not in quiet.stdout


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


def test_credentials_in_the_url_are_warned_about_and_never_shown(cli: Cli, repo: Path) -> None:
    result = cli("storage", "set", "https://alice:hunter2@[::1]:8080/store?sig=SAS2")
    assert result.exit_code == 0, result.stderr
    assert "the URL's credentials will be committed" in result.stderr
    assert "https://[::1]:8080/store" in result.stdout
    shown = cli("storage", "show")
    assert "hunter2" not in result.stdout + shown.stdout + result.stderr
    assert "SAS2" not in result.stdout + shown.stdout + result.stderr
    assert "credentials" not in cli("storage", "set", "https://h/store").stderr
