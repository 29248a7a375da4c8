"""What every command needs: the repository, opened once. A command that writes folds dead
runs' logs first; a command that only reads names them and writes nothing."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from gittrack.errors import GittrackError

if TYPE_CHECKING:  # pygit2 and recovery load with the first command that opens the repo
    from gittrack.git.repo import Repository


@dataclasses.dataclass
class CliContext:
    repo: str | None
    debug: bool = False
    _git: Repository | None = None

    def git(self, recover: bool = True) -> Repository:
        """The repository for a command that writes: a dead run's WAL is folded in first
        (``recover=False``: a command that touches no run, or ``recover`` itself)."""
        return self._open(_recover if recover else None)

    def reader(self) -> Repository:
        """The repository for a command that only reads: nothing is written, a dead run is
        shown as it stands (``crashed``) and named in a warning."""
        return self._open(_report_dead_runs)

    def _open(self, first: Callable[[Repository], None] | None) -> Repository:
        if self._git is None:
            from gittrack.git.repo import discover

            self._git = discover(self.repo)
            if first is not None:
                first(self._git)
        return self._git


def _recover(repo: Repository) -> None:
    """Fold dead runs' logs; a run that cannot be recovered is named in a warning, and the
    command goes on (the run is listed ``crashed``, its log kept)."""
    from gittrack.runs.recover import recover_all

    with contextlib.suppress(GittrackError, OSError):  # read-only: show as is
        for bad in recover_all(repo).unrecovered:
            _warn(bad.message)


def _report_dead_runs(repo: Repository) -> None:
    """One warning per dead run whose log is not folded; only looks."""
    from gittrack.runs.recover import dead_run_notes

    with contextlib.suppress(GittrackError, OSError):
        for note in dead_run_notes(repo):
            _warn(note)


def _warn(message: str) -> None:
    click.echo(f"gittrack: warning: {message}", err=True)
