"""Which runs a command works on: ``--state``, ``--tag``, ``--group``, ``--project``,
``--branch``, ``--commit REV``, ``--since WHEN``, ``--filter KEY=VALUE`` and
``--config KEY=VALUE``, turned into a ``runs.query`` filter."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from gittrack.errors import GittrackError, InvalidSettingError
from gittrack.git.history import resolve, rev_list
from gittrack.git.repo import Repository
from gittrack.runs.info import RunState
from gittrack.runs.metadata import utc_iso
from gittrack.runs.query import parse_cli_filter
from gittrack.runs.view import Listing, Order, RunView, checked, select
from gittrack.types import RunId

STATES = tuple(state.value for state in RunState)

# YAML 1.1 (PyYAML) reads `1e-3` and `2E5` as strings; people mean numbers.
_EXPONENT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
# git's approxidate, the forms people type: "2 days ago", "2.days", "3 weeks", "1 hour ago"
_RELATIVE = re.compile(r"(\d+)[ .]*(second|minute|hour|day|week|month|year)s?(?:[ .]+ago)?",
                       re.IGNORECASE)
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
            "month": 30 * 86400, "year": 365 * 86400}
_CODE_COMMIT = "metadata.code.commit"


@dataclasses.dataclass(frozen=True, slots=True)
class Selection:
    states: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    group: str | None = None
    project: str | None = None
    branch: str | None = None
    commits: tuple[CodeCommits, ...] = ()
    since: str | None = None
    filters: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    limit: int | None = None
    order: Order | None = None
    """The sort ``limit`` applies after (newest first without one)."""

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
        if self.commits:  # the code commit the run started from (run.yaml's code.commit)
            clauses.append({_CODE_COMMIT: commit_condition(self.commits)})
        if self.since is not None:  # created_at is UTC ISO 8601, sortable as text
            clauses.append({"created_at": {"$gte": self.since}})
        clauses += [cli_filter(text) for text in self.filters]
        clauses += [cli_filter(f"config.{text}") for text in self.configs]
        return {"$and": clauses} if clauses else {}


@dataclasses.dataclass(frozen=True, slots=True)
class CodeCommits:
    """One ``--commit REV``: the full SHAs it stands for, or the prefix a short SHA is (a run's
    code commit may be gone from this clone, after a rebase and a gc: its prefix still
    matches)."""

    shas: tuple[str, ...] = ()
    prefix: str | None = None

    def prefixes(self) -> list[str]:
        """Hex texts a matching code commit starts with (a full SHA is all of it)."""
        return [*self.shas, *([self.prefix] if self.prefix is not None else [])]


def commit_condition(commits: tuple[CodeCommits, ...]) -> dict[str, Any]:
    """One condition on the code commit for all of ``commits`` (one field: the listing
    filters it a cache column at a time)."""
    prefixes = sorted({p for c in commits for p in c.prefixes()})
    if not prefixes:  # an empty range: no run
        return {"$in": []}
    return {"$regex": "^(?:" + "|".join(prefixes) + ")"}


def code_commits(repo: Repository, rev: str) -> CodeCommits:
    """``--commit REV``: a full or short SHA, anything git resolves (a branch, ``HEAD~1``), or
    a range ``A..B`` (the commits of ``git rev-list A..B``)."""
    if ".." in rev and "..." not in rev:
        hide, _, tip = rev.partition("..")
        shas = rev_list(repo, hide, tip)
        if shas is None:
            raise InvalidSettingError(f"--commit {rev!r}: {hide or 'HEAD'!r} or {tip or 'HEAD'!r} "
                                      "names no commit here")
        return CodeCommits(shas=tuple(shas))
    if _HEX.fullmatch(rev):
        found = resolve(repo, rev)
        return CodeCommits(shas=(found,) if found else (), prefix=rev.lower())
    found = resolve(repo, rev)
    if found is None:
        raise InvalidSettingError(f"--commit {rev!r} names no commit here (give a SHA, a short "
                                  "SHA, a branch, or a range A..B)")
    return CodeCommits(shas=(found,))


def parse_since(text: str, now: dt.datetime | None = None) -> str:
    """``--since WHEN`` as the UTC ISO text ``created_at`` is compared with: an ISO date or
    date and time (``2026-12-01``, ``2026-12-01T10:00``, with ``Z`` or an offset; without one
    it is local time, as git reads it), or git's relative form (``2 days ago``, ``2.days``,
    ``3 weeks``; a month is 30 days, a year 365), or ``yesterday``/``today``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    words = text.strip().lower()
    relative = _RELATIVE.fullmatch(words)
    if relative:
        moment = now - dt.timedelta(seconds=int(relative[1]) * _SECONDS[relative[2].lower()])
    elif words in ("today", "yesterday"):
        local = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        moment = local - dt.timedelta(days=1 if words == "yesterday" else 0)
    else:
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidSettingError(
                f"--since {text!r} is neither an ISO date/time (2026-12-01, "
                "2026-12-01T10:00Z) nor a relative time (2 days ago, 2.days)") from None
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local time, as git reads it
    return utc_iso(moment.timestamp())


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
    return list(list_selection(repo, selection, on_error).views)


def list_selection(
    repo: Repository, selection: Selection,
    on_error: Callable[[RunId, GittrackError], None] | None = None,
) -> Listing:
    """``select_runs`` with the counts: how many match, how many runs there are. The views
    handed out are checked (``view.checked``); filters run on the cache's plain data."""
    found = select(repo, selection.query(), limit=selection.limit, on_error=on_error,
                   order=selection.order)
    views = checked(found.views, on_error)
    unread = len(found.views) - len(views)
    return Listing(views, found.matched - unread, found.total - unread)
