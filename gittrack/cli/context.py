"""What every command needs: the repository (opened once, dead runs recovered first)."""

from __future__ import annotations

import contextlib
import dataclasses
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
        """The repository; a dead run's WAL is folded in first, as every command does."""
        if self._git is None:
            from gittrack.git.repo import discover

            self._git = discover(self.repo)
            if recover:
                _recover(self._git)
        return self._git


def _recover(repo: Repository) -> None:
    """Fold dead runs' logs; a run that cannot be recovered is named in a warning, and the
    command goes on (the run is listed ``crashed``, its log kept)."""
    from gittrack.runs.recover import recover_all

    with contextlib.suppress(GittrackError, OSError):  # read-only: show as is
        for bad in recover_all(repo).unrecovered:
            click.echo(f"gittrack: warning: {bad.message}", err=True)
