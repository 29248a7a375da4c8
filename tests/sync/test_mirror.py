"""The mirror is the remote's, not the spelling of its address: a push by path or URL to a
remote that is also configured by name uses that remote's history, so it never sends back a run
a teammate purged there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import RUNS, MakeClone, git, refs_of
from tests.helpers.runs import log_run
from tests.helpers.teams import purged_after_pull


def _purged_by_a(bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
                 fast_settings: dict[str, object], cli: Any) -> tuple[Path, str]:
    """A pushes its only run, B pulls it, A purges it: B still has it, the remote has none."""
    a = make_clone("a", str(bare_remote))
    victim = log_run(a, fast_settings, data=None)
    b = purged_after_pull(a, lambda: make_clone("b", str(bare_remote)), victim, cli,
                          monkeypatch.chdir)
    assert not [r for r in refs_of(bare_remote) if r.startswith(RUNS)]
    return b, victim


def _spellings(bare_remote: Path, b: Path) -> list[str]:
    rel = os.path.relpath(bare_remote, b)
    link = bare_remote.parent / "link-to-remote"
    link.symlink_to(bare_remote)
    return [str(bare_remote), f"file://{bare_remote}", rel + "/", rel.removesuffix(".git"),
            f"{bare_remote}/./", str(link)]


@pytest.mark.parametrize("how", range(6))
def test_push_by_path_or_url_keeps_the_purge(
        how: int, bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    b, victim = _purged_by_a(bare_remote, make_clone, monkeypatch, fast_settings, cli)
    where = _spellings(bare_remote, b)[how]
    result = cli("push", where)
    assert result.exit_code == 5, result.stdout + result.stderr
    assert victim in result.stdout + result.stderr
    assert f"{RUNS}{victim}" not in refs_of(bare_remote)


@pytest.mark.parametrize("how", [0, 1, 2])
def test_plain_git_push_by_path_keeps_the_purge(
        how: int, bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    b, victim = _purged_by_a(bare_remote, make_clone, monkeypatch, fast_settings, cli)
    assert cli("hooks", "install").exit_code == 0
    where = _spellings(bare_remote, b)[how]
    done = subprocess.run(["git", "push", where, "refs/gittrack/*:refs/gittrack/*"], cwd=b,
                          capture_output=True, text=True)
    assert done.returncode != 0, done.stderr
    assert f"run {victim}" in done.stderr
    assert f"{RUNS}{victim}" not in refs_of(bare_remote)
    assert git(b, "rev-parse", "HEAD")  # the clone is untouched


def test_push_to_an_unknown_address_of_a_purged_remote_holds_what_came_from_a_remote(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    """No configured remote has the address (B's was removed: it could be reached by another
    URL): the remote carries the deletion mark, so a run B got from a remote is held (it may
    be the one purged there), and a run only B made is sent."""
    b, victim = _purged_by_a(bare_remote, make_clone, monkeypatch, fast_settings, cli)
    git(b, "remote", "remove", "origin")
    mine = log_run(b, fast_settings, data=None)
    for where in (str(bare_remote), f"file://{bare_remote}/"):
        result = cli("push", where)
        assert result.exit_code == 5, result.stdout + result.stderr
        assert victim in result.stdout and "--force" in result.stdout
        after = refs_of(bare_remote)
        assert f"{RUNS}{victim}" not in after and f"{RUNS}{mine}" in after
    assert cli("push", "--force", str(bare_remote)).exit_code == 0  # the user's call
    assert f"{RUNS}{victim}" in refs_of(bare_remote)
