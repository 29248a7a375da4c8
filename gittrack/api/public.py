"""``gittrack.Api``: read runs for notebooks and scripts ("you own your data")."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

import pygit2

from gittrack.errors import GittrackError, RepositoryError
from gittrack.git.repo import discover
from gittrack.runs.query import matches
from gittrack.runs.recover import recover_dead_runs
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import RunView, all_runs


class Api:
    """Read the runs of a repository.

    >>> api = gittrack.Api(repo=".")                                  # doctest: +SKIP
    >>> df = api.runs({"state": "finished"})[0].history()             # doctest: +SKIP
    """

    def __init__(self, repo: str | os.PathLike[str] = ".") -> None:
        self._repo: pygit2.Repository = discover(repo)
        with contextlib.suppress(GittrackError, OSError):  # read-only: show runs as they are
            recover_dead_runs(self._repo)

    def runs(self, filters: Mapping[str, Any] | None = None) -> list[RunView]:
        """Runs matching ``filters`` (see ``docs/api.md``), newest first."""
        views = all_runs(self._repo)
        if not filters:
            return views
        return [v for v in views if matches(v, filters)]

    def run(self, spec: str) -> RunView:
        """One run by id, unique id prefix or name."""
        return resolve_run(self._repo, spec)

    @property
    def path(self) -> str:
        return str(self._repo.workdir or self._repo.path)


__all__ = ["Api", "RepositoryError"]
