"""Which runs a command works on: ``--state``, ``--tag``, ``--group``, ``--project``,
``--branch``, ``--filter KEY=VALUE`` and ``--config KEY=VALUE``, turned into a ``runs.query``
filter."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from gittrack.errors import GittrackError
from gittrack.git.repo import Repository
from gittrack.runs.info import RunState
from gittrack.runs.query import parse_cli_filter
from gittrack.runs.view import Listing, RunView, checked, select
from gittrack.types import RunId

STATES = tuple(state.value for state in RunState)

# YAML 1.1 (PyYAML) reads `1e-3` and `2E5` as strings; people mean numbers.
_EXPONENT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")


@dataclasses.dataclass(frozen=True, slots=True)
class Selection:
    states: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    group: str | None = None
    project: str | None = None
    branch: str | None = None
    filters: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    limit: int | None = None

    def query(self) -> dict[str, Any]:
        """A ``runs.query`` filter; every condition must hold."""
        clauses: list[dict[str, Any]] = []
        if self.states:
            clauses.append({"state": {"$in": list(self.states)}})
        clauses += [{"tags": tag} for tag in self.tags]
        if self.group is not None:
            clauses.append({"group": self.group})
        if self.project is not None:
            clauses.append({"project": self.project})
        if self.branch is not None:  # the code's branch when the run started (run.yaml)
            clauses.append({"metadata.code.branch": self.branch})
        clauses += [cli_filter(text) for text in self.filters]
        clauses += [cli_filter(f"config.{text}") for text in self.configs]
        return {"$and": clauses} if clauses else {}


def cli_filter(text: str) -> dict[str, Any]:
    """``KEY=VALUE`` as a filter; ``lr=1e-3`` matches the number 0.001 and the text "1e-3"."""
    key, value = parse_cli_filter(text)
    if isinstance(value, str) and _EXPONENT.fullmatch(value):
        return {key: {"$in": [value, float(value)]}}
    return {key: value}


def select_runs(
    repo: Repository, selection: Selection,
    on_error: Callable[[RunId, GittrackError], None] | None = None,
) -> list[RunView]:
    """The matching runs, newest first, at most ``selection.limit`` of them."""
    return list_selection(repo, selection, on_error).views


def list_selection(
    repo: Repository, selection: Selection,
    on_error: Callable[[RunId, GittrackError], None] | None = None,
) -> Listing:
    """``select_runs`` with the counts: how many match, how many runs there are. The views
    handed out are checked (``view.checked``); filters run on the cache's plain data."""
    found = select(repo, selection.query(), limit=selection.limit, on_error=on_error)
    views = checked(found.views, on_error)
    unread = len(found.views) - len(views)
    return Listing(views, found.matched - unread, found.total - unread)
