"""Private by default: the pre-push hook carries runs only to a remote enabled for gittrack
(``remote setup NAME``, the first remote by default); any other remote gets none and one line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import RUNS, MakeClone, add_bare_remote, git, refs_of
from tests.helpers.runs import log_run


def push(clone: Path, remote: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", remote, "main"], cwd=clone, capture_output=True,
                          text=True)


@pytest.mark.parametrize("mode", ["all", "code"])
def test_git_push_to_a_fork_sends_no_run_and_says_so(
        mode: str, bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    fork = add_bare_remote(a, "fork")
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    git(a, "config", "gittrack.prePush", mode)
    git(a, "commit", "-q", "--allow-empty", "-m", "work")
    run = log_run(a, fast_settings, data=None)

    done = push(a, "fork")
    assert done.returncode == 0, done.stderr
    assert refs_of(fork) == {} and git(fork, "rev-parse", "main") == git(a, "rev-parse", "HEAD")
    said = [line for line in done.stderr.splitlines() if line.startswith("gittrack:")]
    assert said == ["gittrack: runs are not pushed to fork: it is not enabled for gittrack "
                    "(`gittrack remote setup fork`)"]

    done = push(a, "origin")  # the first remote: enabled while none is configured
    assert done.returncode == 0, done.stderr
    assert set(refs_of(bare_remote)) == {f"{RUNS}{run}"}
    assert "not enabled" not in done.stderr

    assert cli("remote", "setup", "fork").exit_code == 0
    assert git(a, "config", "--get", "remote.fork.gittrack").strip() == "true"
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = push(a, "fork")
    assert done.returncode == 0, done.stderr
    assert set(refs_of(fork)) == {f"{RUNS}{run}"} and "not enabled" not in done.stderr


def test_once_a_remote_is_enabled_the_first_is_no_longer_implicit(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    add_bare_remote(a, "team")
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    assert cli("remote", "setup", "team").exit_code == 0
    log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "work")
    done = push(a, "origin")
    assert done.returncode == 0 and refs_of(bare_remote) == {}
    assert "runs are not pushed to origin" in done.stderr
    assert cli("remote", "setup", "origin").exit_code == 0  # both enabled now
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    assert push(a, "origin").returncode == 0 and refs_of(bare_remote) != {}


def test_a_url_is_not_enabled(bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object],
                              cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    log_run(a, fast_settings, data=None)
    elsewhere = tmp_path / "elsewhere.git"
    git(tmp_path, "init", "-q", "--bare", str(elsewhere))
    done = push(a, str(elsewhere))
    assert done.returncode == 0 and refs_of(elsewhere) == {}
    assert f"runs are not pushed to {elsewhere}" in done.stderr
