"""`gittrack ui` end to end: the real command serving a real repository, its token beyond
loopback, its one-line errors (extra missing, port taken, not a repository)."""

from __future__ import annotations

import json
import re
import socket
import sys
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from gittrack.cli.ui_cmd import is_loopback
from tests.helpers.cli import Cli
from tests.helpers.runs import make_run
from tests.helpers.ui import serving


def get(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (any case) and body of a GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def test_serves_the_runs_of_repo_on_loopback(repo: Path, tmp_path: Path) -> None:
    run = make_run([{"loss": 0.5}], name="served")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with serving(elsewhere, "--repo", str(repo), "--port", "0") as lines:
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", lines[0])
        assert url and "read-only" in lines[0] and "token" not in lines[0]
        status, headers, body = get(url.group(1) + "api/runs")
        assert status == 200 and "default-src 'self'" in headers["Content-Security-Policy"]
        assert [r["name"] for r in json.loads(body)["runs"]] == ["served"]
        status, _, body = get(url.group(1) + f"api/runs/{run.id}/history?keys=loss")
        assert json.loads(body)["series"]["loss"]["y"] == [0.5]
        status, _, page = get(url.group(1))
        assert status == 200 and b"static/app.js" in page


def test_another_host_requires_the_token_printed_once(repo: Path) -> None:
    make_run([{"loss": 0.5}])
    with serving(repo, "--host", "0.0.0.0", "--port", "0") as lines:
        found = re.search(r"http://[^:/]+:(\d+)/\?token=([\w-]+)", lines[0])
        assert found, lines
        port, token = found.groups()
        said = "".join(lines[1:])
        assert "token" in said and "other machines" in said
        assert "".join(lines).count(token) == 1  # printed once
        base = f"http://127.0.0.1:{port}/api/runs"
        assert get(base)[0] == 401
        assert get(base + "?token=not-it")[0] == 401
        assert get(base + f"?token={token}")[0] == 200
        assert get(base, Authorization=f"Bearer {token}")[0] == 200


def test_port_taken_is_one_line(repo: Path, cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("ui", "--no-browser", "--port", str(port))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in result.stderr


def test_not_a_repository_is_one_line(tmp_path: Path, cli: Cli) -> None:
    result = cli("ui", "--no-browser", "--repo", str(tmp_path))
    assert result.exit_code != 0 and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_without_the_ui_extra_names_the_install(repo: Path, cli: Cli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed: import fails
    result = cli("ui", "--no-browser")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("pip install 'gittrack[ui]'")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False),
    ("example.com", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_export_writes_a_static_site(repo: Path, tmp_path: Path, cli: Cli) -> None:
    run = make_run([{"loss": 0.5}], name="shared")
    result = cli("ui", "--export", str(tmp_path / "site"), "shared")
    assert result.exit_code == 0, result.stderr
    assert "exported 1 run(s)" in result.stdout
    assert (tmp_path / "site" / "data" / f"run-{run.id}.js").is_file()
    assert (tmp_path / "site" / "index.html").is_file()


def test_export_of_a_private_project_says_so_in_one_line(
        repo: Path, private_repo: object, tmp_path: Path, cli: Cli) -> None:
    import gittrack

    run = gittrack.init(settings={"quiet": True, "console": "wrap"})
    print("secret output")
    run.finish()
    result = cli("ui", "--export", str(tmp_path / "site"))
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert "decrypted content of this private project" in line and "--public-only" in line
    assert "secret output" in (tmp_path / "site" / "data" / f"console-{run.id}.js").read_text()
    result = cli("ui", "--export", str(tmp_path / "site"), "--public-only")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "gittrack ui: left out the media, charts, tables, console output and saved code of "
        "this private project (--public-only)"]
    assert "secret output" not in (tmp_path / "site" / "data" / f"console-{run.id}.js"
                                   ).read_text()
    result = cli("ui", "--no-browser", "--public-only")
    assert result.exit_code == 2 and "--export" in result.stderr


def test_export_without_a_key_leaves_out_what_it_cannot_open_in_one_line(
        repo: Path, private_repo: object, tmp_path: Path, cli: Cli,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import gittrack

    run = gittrack.init(settings={"quiet": True, "console": "wrap"})
    print("secret output")
    run.log({"loss": 0.5})
    run.finish()
    shutil.rmtree(repo / ".git" / "gittrack" / "cache" / "blobs")  # no plaintext copy here
    stranger = tmp_path / "stranger"  # and no identity: another user of this clone
    monkeypatch.setenv("HOME", str(stranger))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(stranger / var.lower()))
    result = cli("ui", "--export", str(tmp_path / "site"))
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("gittrack ui: left out console output of 1 run(s)"), line
    assert "Traceback" not in result.stderr and "decrypted" not in line
    assert (tmp_path / "site" / "data" / f"history-{run.id}-_step.js").is_file()


def test_runs_without_export_is_a_usage_error(repo: Path, cli: Cli) -> None:
    result = cli("ui", "--no-browser", "somerun")
    assert result.exit_code == 2 and "--export" in result.stderr


def test_another_loopback_address_needs_no_token(repo: Path) -> None:
    make_run([{"loss": 0.5}])
    with serving(repo, "--host", "127.0.0.2", "--port", "0") as lines:
        found = re.search(r"(http://127\.0\.0\.2:\d+/)", lines[0])
        assert found and "token" not in "".join(lines)
        assert get(found.group(1) + "api/runs")[0] == 200
        port = found.group(1).rsplit(":", 1)[1].strip("/")
        assert get(f"http://127.0.0.2:{port}/api/runs", Host="evil.example")[0] == 400
