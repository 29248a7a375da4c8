"""The pre-push hook: installed, chained, pushing runs with the code, never blocking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import RUNS, MakeClone, git, refs_of
from tests.helpers.runs import log_run
from tests.helpers.teams import purged_after_pull


def hook_path(clone: Path) -> Path:
    return clone / ".git" / "hooks" / "pre-push"


def test_install_chains_and_uninstall_restores(repo: Path, cli: Any) -> None:
    mine = hook_path(repo)
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text("#!/bin/sh\necho mine >> \"$(dirname \"$0\")/../../ran\"\n")
    mine.chmod(0o755)
    result = cli("hooks", "install")
    assert result.exit_code == 0 and "pre-push.gittrack-chained" in result.stdout
    assert "gittrack-managed-hook" in mine.read_text()
    assert cli("hooks", "install").exit_code == 0  # again: the chained hook is not lost
    assert "echo mine" in (mine.parent / "pre-push.gittrack-chained").read_text()
    assert "restored" in cli("hooks", "uninstall").stdout
    assert "echo mine" in mine.read_text()
    assert not (mine.parent / "pre-push.gittrack-chained").exists()
    assert "nothing changed" in cli("hooks", "uninstall").stdout


@pytest.mark.parametrize("mode", ["all", "code", "off"])
def test_git_push_carries_runs(mode: str, bare_remote: Path, make_clone: MakeClone,
                               monkeypatch: pytest.MonkeyPatch,
                               fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    git(a, "config", "gittrack.prePush", mode)
    on_pushed = log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "unpushed work")
    on_new = log_run(a, fast_settings, data=None)
    git(a, "reset", "-q", "--hard", "HEAD~1")  # this run's code is not pushed below
    git(a, "commit", "-q", "--allow-empty", "-m", "pushed work")
    pushed = log_run(a, fast_settings, data=None)
    git(a, "push", "-q", "origin", "main")
    remote = set(refs_of(bare_remote))
    expected = {"all": {on_pushed, on_new, pushed}, "code": {on_pushed, pushed},
                "off": set()}[mode]
    assert remote == {f"refs/gittrack/runs/{r}" for r in expected}


def test_a_failing_gittrack_warns_and_lets_the_push_go(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any, tmp_path: Path) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    cli("hooks", "install")
    log_run(a, fast_settings, data=None)
    git(a, "config", "gittrack.prePush", "sometimes")  # a gittrack error the hook survives
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = git_push(a)
    assert done.returncode == 0 and "gittrack: warning: runs were not pushed" in done.stderr
    assert git(bare_remote, "rev-parse", "main") == git(a, "rev-parse", "HEAD")
    git(a, "config", "gittrack.hookStrict", "true")
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    assert git_push(a).returncode != 0


def test_install_twice_leaves_one_entry_and_uninstall_removes_it(repo: Path, cli: Any) -> None:
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(parents=True, exist_ok=True)
    attributes.write_text("*.bin -diff\n")  # the user's own line stays
    cli("hooks", "install")
    cli("hooks", "install")
    assert attributes.read_text() == "*.bin -diff\n*.parquet diff=gittrack\n"
    drivers = git(repo, "config", "--local", "--get-all", "diff.gittrack.textconv").splitlines()
    assert len(drivers) == 1 and drivers[0].endswith("-m gittrack textconv")
    assert not (repo / ".gitattributes").exists()
    assert "diff.gittrack" not in (Path.home() / ".gitconfig").read_text() \
        if (Path.home() / ".gitconfig").exists() else True  # never the user's config
    cli("hooks", "uninstall")
    assert attributes.read_text() == "*.bin -diff\n"
    assert "diff.gittrack" not in git(repo, "config", "--local", "--list")


def git_push(clone: Path) -> Any:
    import subprocess

    return subprocess.run(["git", "push", "-q", "origin", "main"], cwd=clone,
                          capture_output=True, text=True)


def test_check_large_files(repo: Path, cli: Any) -> None:
    (repo / "small.txt").write_bytes(b"x" * 10)
    (repo / "big.bin").write_bytes(b"x" * 2_000_000)
    assert cli("hooks", "check-large-files", "small.txt", "big.bin").exit_code == 0
    result = cli("hooks", "check-large-files", "--max-size", "1MB", "small.txt", "big.bin")
    assert result.exit_code == 1
    assert "big.bin (2.0 MB)" in result.stderr and 'gittrack.Artifact("big"' in result.stderr
    assert "small.txt" not in result.stderr
    assert cli("hooks", "check-large-files", "--max-size", "lots").exit_code == 2


@pytest.mark.parametrize("last_run", [True, False])
def test_plain_git_push_never_brings_back_refs_a_teammate_deleted(
        last_run: bool, bare_remote: Path, make_clone: MakeClone,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any,
        tmp_path: Path) -> None:
    import subprocess

    from tests.helpers.storage import share_storage

    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "team-store"))
    victim = log_run(a, fast_settings)
    kept = None if last_run else log_run(a, fast_settings, data=None)
    b = purged_after_pull(a, lambda: make_clone("b", str(bare_remote)), victim, cli,
                          monkeypatch.chdir)
    assert f"{RUNS}{victim}" not in refs_of(bare_remote)
    assert cli("hooks", "install").exit_code == 0
    assert cli("remote", "setup", "--push").exit_code == 0
    git(b, "commit", "-q", "--allow-empty", "-m", "c")
    done = subprocess.run(["git", "push"], cwd=b, capture_output=True, text=True)
    assert done.returncode != 0, done.stderr
    assert f"run {victim}" in done.stderr and "gittrack pull" in done.stderr
    assert "gittrack push --force" in done.stderr
    after = refs_of(bare_remote)
    assert f"{RUNS}{victim}" not in after
    assert not any(r.startswith("refs/gittrack/artifacts/") for r in after)
    assert (kept is None) or f"{RUNS}{kept}" in after
    assert cli("pull").exit_code == 0  # takes the deletion; git push goes through then
    git(b, "push", "-q")
    assert f"{RUNS}{victim}" not in refs_of(bare_remote)
    assert git(bare_remote, "rev-parse", "main") == git(b, "rev-parse", "HEAD")


def test_an_interpreter_path_that_is_not_utf8_or_quoted(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], tmp_path: Path) -> None:
    """The hook names the interpreter that installed it: a path with a byte that is not UTF-8
    (install raised UnicodeEncodeError) or a quote (it broke the hook's shell) works."""
    import os
    import subprocess
    import sys

    folder = os.fsencode(tmp_path) + b"/py\xe9 o'k"
    os.mkdir(folder)
    python = os.fsdecode(folder + b"/python")
    os.symlink(sys.executable, python)
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    done = subprocess.run([python, "-m", "gittrack.cli.main", "hooks", "install"], cwd=a,
                          capture_output=True, text=True, errors="replace")
    assert done.returncode == 0, done.stderr
    assert b"/py\xe9 o'\"'\"'k/python'\n" in hook_path(a).read_bytes()
    run = log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    pushed = git_push(a)
    assert pushed.returncode == 0, pushed.stderr
    assert f"refs/gittrack/runs/{run}" in set(refs_of(bare_remote))


def test_a_pre_push_mode_that_is_not_utf8_is_refused_naming_it(repo: Path) -> None:
    """pygit2 raised UnicodeDecodeError reading it (the hook then failed as a bug)."""
    import os

    import pygit2

    from gittrack.errors import UsageError
    from gittrack.hooks.prepush import mode

    git(repo, "config", "gittrack.prePush", os.fsdecode(b"al\xe9"))
    with pytest.raises(UsageError, match=r"'al\\xe9'; use one of all, code, off"):
        mode(pygit2.Repository(str(repo)))


def test_the_hook_starts_no_python_when_every_ref_is_on_the_remote(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    """The shell script's shortcut (hooks/pre-push): runs pushed before, nothing to send, so no
    interpreter — shown by a mode value Python would warn about, and no warning; a run that
    moved here since is not on the remote at its value, and Python pushes it."""
    import gittrack

    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    assert cli("hooks", "install").exit_code == 0
    run = log_run(a, fast_settings, data=None)
    assert cli("push").exit_code == 0
    git(a, "config", "gittrack.prePush", "sometimes")  # Python would say it is not a mode
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = git_push(a)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    git(a, "config", "gittrack.prePush", "all")
    with gittrack.init(repo=str(a), id=run, resume="allow", settings=fast_settings) as again:
        again.log({"more": 1.0})
    git(a, "commit", "-q", "--allow-empty", "-m", "again")
    done = git_push(a)
    assert done.returncode == 0, done.stderr
    assert refs_of(bare_remote)[f"{RUNS}{run}"] == refs_of(a)[f"{RUNS}{run}"]
