"""Private by default: the pre-push hook carries runs only to a remote enabled for gittrack
(``remote setup NAME``, the first remote by default); any other remote gets none and one line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import RUNS, MakeClone, ServeRemote, git, refs_of
from tests.helpers.runs import log_run


def push(clone: Path, remote: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", remote, "main"], cwd=clone, capture_output=True,
                          text=True)


@pytest.mark.parametrize("mode", ["all", "code"])
def test_git_push_to_a_fork_sends_no_run_and_says_so(
        mode: str, serve_remote: ServeRemote, make_clone: MakeClone,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    """Over the file transport and over ``git daemon``."""
    (origin, origin_url), (fork, fork_url) = serve_remote(), serve_remote()
    a = make_clone("a", origin_url)
    git(a, "remote", "add", "fork", fork_url)
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
    assert set(refs_of(origin)) == {f"{RUNS}{run}"}
    assert "not enabled" not in done.stderr

    assert cli("remote", "setup", "fork").exit_code == 0
    assert git(a, "config", "--get", "remote.fork.gittrack").strip() == "true"
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = push(a, "fork")
    assert done.returncode == 0, done.stderr
    assert set(refs_of(fork)) == {f"{RUNS}{run}"} and "not enabled" not in done.stderr


def test_once_a_remote_is_enabled_the_first_is_no_longer_implicit(
        serve_remote: ServeRemote, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    """Over the file transport and over ``git daemon``."""
    (origin, origin_url), (_, team_url) = serve_remote(), serve_remote()
    a = make_clone("a", origin_url)
    git(a, "remote", "add", "team", team_url)
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    assert cli("remote", "setup", "team").exit_code == 0
    log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "work")
    done = push(a, "origin")
    assert done.returncode == 0 and refs_of(origin) == {}
    assert "runs are not pushed to origin" in done.stderr
    assert cli("remote", "setup", "origin").exit_code == 0  # both enabled now
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    assert push(a, "origin").returncode == 0 and refs_of(origin) != {}


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


def test_two_clones_a_fork_over_git_daemon_or_files_gets_no_run(
        serve_remote: ServeRemote, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    """Alice pushes code to the team's origin and to her public fork (both over the same
    transport); Bob, cloning the fork, finds the code and no run; cloning origin, the run."""
    (_, origin), (_, fork) = serve_remote(), serve_remote()
    a = make_clone("a", origin)
    git(a, "remote", "add", "fork", fork)
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    run = log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "work")
    to_fork = push(a, "fork")
    assert to_fork.returncode == 0 and "runs are not pushed to fork" in to_fork.stderr
    assert push(a, "origin").returncode == 0

    b_fork = make_clone("b-fork", fork)
    monkeypatch.chdir(b_fork)
    assert git(b_fork, "rev-parse", "HEAD") == git(a, "rev-parse", "HEAD")
    assert cli("pull").exit_code == 0 and cli("show", run).exit_code != 0
    b = make_clone("b", origin)
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0 and cli("show", run).exit_code == 0


def test_code_mode_sends_only_the_runs_and_code_commits_the_push_carries(
        served_remote: tuple[Path, str], make_clone: MakeClone,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    """``code``: a run made on a commit the push does not send stays here, and so does its
    code commit (its code ref would put an unpushed commit on the remote); ``all`` sends it.
    Over the file transport and over ``git daemon``."""
    from gittrack.git import namespace

    bare_remote, url = served_remote
    a = make_clone("a", url)
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    git(a, "config", "gittrack.prePush", "code")
    git(a, "switch", "-q", "-c", "local-idea")
    git(a, "commit", "-q", "--allow-empty", "-m", "not pushed")
    idea = git(a, "rev-parse", "HEAD").strip()
    on_idea = log_run(a, fast_settings, data=None)
    git(a, "switch", "-q", "main")
    git(a, "commit", "-q", "--allow-empty", "-m", "pushed")
    shared = git(a, "rev-parse", "HEAD").strip()
    on_shared = log_run(a, fast_settings, data=None)

    assert push(a, "origin").returncode == 0
    assert set(refs_of(bare_remote)) == {f"{RUNS}{on_shared}"}
    assert refs_of(bare_remote, namespace.CODE) == {namespace.CODE + shared: shared}
    assert subprocess.run(["git", "cat-file", "-e", idea], cwd=bare_remote).returncode != 0

    git(a, "config", "gittrack.prePush", "all")
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    assert push(a, "origin").returncode == 0
    assert set(refs_of(bare_remote)) == {f"{RUNS}{on_shared}", f"{RUNS}{on_idea}"}
    assert namespace.CODE + idea in refs_of(bare_remote, namespace.CODE)


def test_a_rejected_code_push_leaves_the_runs_and_their_code_on_the_remote(
        served_remote: tuple[Path, str], make_clone: MakeClone,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    """The hook runs before git sends the branch and cannot know the server's verdict: when
    the server then rejects the branch, the runs are there already — with the commits they
    ran on, through their code refs, so a teammate can still read them (docs/sync.md). Over
    the file transport and over ``git daemon``."""
    from gittrack.git import namespace

    bare_remote, url = served_remote
    a = make_clone("a", url)
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    hook = bare_remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do case \"$ref\" in refs/heads/*) "
                    "echo \"branch pushes are closed\" >&2; exit 1;; esac; done\nexit 0\n")
    hook.chmod(0o755)
    before = git(bare_remote, "rev-parse", "main").strip()
    git(a, "commit", "-q", "--allow-empty", "-m", "rejected work")
    work = git(a, "rev-parse", "HEAD").strip()
    run = log_run(a, fast_settings, data=None)

    done = push(a, "origin")
    assert done.returncode != 0 and "branch pushes are closed" in done.stderr
    assert git(bare_remote, "rev-parse", "main").strip() == before  # the code was refused
    assert set(refs_of(bare_remote)) == {f"{RUNS}{run}"}  # the run went first
    assert refs_of(bare_remote, namespace.CODE) == {namespace.CODE + work: work}

    b = make_clone("b", url)
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0
    shown = cli("show", run)
    assert shown.exit_code == 0 and work[:7] in shown.stdout
    assert git(b, "log", "-1", "--format=%s", work).strip() == "rejected work"
