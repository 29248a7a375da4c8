"""What every command needs: the repository (opened once, dead runs recovered first)."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING

from gittrack.errors import GittrackError

if TYPE_CHECKING:  # pygit2 and recovery load with the first command that opens the repo
    import pygit2


@dataclasses.dataclass
class CliContext:
    repo: str | None
    debug: bool = False
    _git: pygit2.Repository | None = None

    def git(self, recover: bool = True) -> pygit2.Repository:
        """The repository; a dead run's WAL is folded in first, as every command does."""
        if self._git is None:
            from gittrack.git.repo import discover
            from gittrack.runs.recover import recover_dead_runs

            self._git = discover(self.repo)
            if recover:
                with contextlib.suppress(GittrackError, OSError):  # read-only: show as is
                    recover_dead_runs(self._git)
        return self._git
