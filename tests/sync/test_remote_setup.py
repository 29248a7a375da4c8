"""``gittrack remote setup`` on a repository whose ``.git`` cannot be written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.disks import read_only
from tests.helpers.repos import MakeClone, git


@pytest.mark.parametrize("args", [("remote", "setup"), ("remote", "setup", "--undo")])
def test_a_read_only_git_dir_is_a_repository_error_naming_the_config(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        cli: Any, args: tuple[str, ...]) -> None:
    """Issue 8: a config-lock failure gave exit 10 (git transport), no transport involved."""
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    if "--undo" in args:
        assert cli("remote", "setup", "--push").exit_code == 0
    before = git(a, "config", "--list", "--local")
    with read_only(a / ".git"):
        result = cli(*args)
    assert result.exit_code == 3, result.stderr
    assert f"cannot write {a / '.git' / 'config'}" in result.stderr
    assert "Read-only file system" in result.stderr and result.stderr.count("\n") == 1
    assert git(a, "config", "--list", "--local") == before


def test_a_stale_config_lock_is_a_repository_error(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    (a / ".git" / "config.lock").write_text("")
    result = cli("remote", "setup")
    assert result.exit_code == 3 and "config" in result.stderr


def test_enabled_remotes(bare_remote: Path, make_clone: MakeClone,
                         monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    """Private by default: the first remote until one is set to true; false turns it off."""
    from gittrack.git.repo import discover
    from gittrack.sync.remote_setup import enabled_remotes
    from tests.helpers.repos import add_bare_remote

    a = make_clone("a", str(bare_remote))
    add_bare_remote(a, "fork")
    monkeypatch.chdir(a)
    assert enabled_remotes(discover(str(a))) == ["origin"]
    git(a, "config", "remote.fork.gittrack", "false")
    assert enabled_remotes(discover(str(a))) == ["origin"]
    git(a, "config", "remote.origin.gittrack", "false")
    assert enabled_remotes(discover(str(a))) == []
    assert "added remote.fork.gittrack = true" in cli("remote", "setup", "fork").stdout
    assert enabled_remotes(discover(str(a))) == ["fork"]
    assert "removed remote.fork.gittrack = true" in cli("remote", "setup", "fork",
                                                        "--undo").stdout
    assert enabled_remotes(discover(str(a))) == []  # origin is still set to false
