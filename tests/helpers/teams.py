"""Teammates on one remote: what a teammate's purge leaves behind (the remote without a run
that another clone still has)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import Cli


def purged_after_pull(a: Path, make_b: Callable[[], Path], victim: str, cli: Cli,
                      chdir: Callable[[Path], None]) -> Path:
    """A pushes its runs, B (``make_b()``) pulls them, A purges ``victim`` on ``origin``: B
    still has it, the remote does not. Returns B, the current directory."""
    chdir(a)
    assert cli("push").exit_code == 0
    b = make_b()
    chdir(b)
    assert cli("pull").exit_code == 0
    chdir(a)
    assert cli("purge", "--yes", "--remote", "origin", victim).exit_code == 0
    chdir(b)
    return b
