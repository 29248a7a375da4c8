"""The pull-request report: the runs made on the head's commits against the base's, the best
run of each side, and their comparison (``gittrack.runs.compare``).

Like a pull request, the head side is the runs whose code commit is in ``base..head`` (the
commits reachable from head and not from base: ``git rev-list base..head``); the base side is
the runs whose code commit is reachable from base (the base branch's history, merge base and
newer base commits included). Only finished runs take part.

>>> r = build_report(repo, all_runs(repo), "origin/main", "HEAD")    # doctest: +SKIP
>>> r.best_head.name, r.comparison.summary[0].key                     # doctest: +SKIP
('lr-0.01', 'loss')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from gittrack.errors import InvalidSettingError, InvalidValueError, NotFoundError
from gittrack.git.history import reachable_commits, resolve, rev_list
from gittrack.git.repo import Repository
from gittrack.runs.compare import Comparison, best_run, compare_runs, deciding_metric
from gittrack.runs.goals import Goal, goals
from gittrack.runs.info import RunState
from gittrack.runs.view import RunView
from gittrack.types import CommitId

MARKER = "<!-- gittrack-report -->"
"""The first line of every report: a CI job finds its earlier comment by it and edits it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """One report: the refs as given and the commits they named, each side's runs (newest
    first), the deciding metric and its goal (``None`` when no run recorded a goal: each side's
    newest run is then its best), each side's best run and their comparison (``None`` unless
    both sides have a run)."""

    base: str
    head: str
    base_commit: CommitId
    head_commit: CommitId
    base_runs: tuple[RunView, ...]
    head_runs: tuple[RunView, ...]
    metric: str | None
    goal: Goal | None
    best_base: RunView | None
    best_head: RunView | None
    comparison: Comparison | None


def build_report(repo: Repository, views: Sequence[RunView], base: str, head: str, *,
                 metric: str | None = None, everything: bool = False,
                 noise: bool = False) -> Report:
    """The report of ``head`` against ``base`` (any revision git resolves) over ``views``."""
    base_commit, head_commit = _commit(repo, base, "--base"), _commit(repo, head, "--head")
    head_commits = set(rev_list(repo, base_commit, head_commit) or ())
    base_commits = set(reachable_commits(repo, [base_commit]))
    finished = [v for v in views if v.info.state == RunState.FINISHED]
    base_runs = tuple(v for v in finished if _code_commit(v) in base_commits)
    head_runs = tuple(v for v in finished if _code_commit(v) in head_commits)
    name, goal = _deciding(base_runs + head_runs, metric)
    best_base = _best(base_runs, name, goal, f"on {base!r}")
    best_head = _best(head_runs, name, goal, f"on {base}..{head}")
    comparison = None
    if best_base is not None and best_head is not None:
        comparison = compare_runs([best_base, best_head], everything=everything, noise=noise)
    return Report(base, head, base_commit, head_commit, base_runs, head_runs, name, goal,
                  best_base, best_head, comparison)


def _commit(repo: Repository, rev: str, option: str) -> CommitId:
    found = resolve(repo, rev)
    if found is None:
        raise InvalidSettingError(f"{option} {rev!r} names no commit here (fetch it first?)")
    return found


def _code_commit(view: RunView) -> str | None:
    commit = (view.info.code or {}).get("commit")
    return None if commit is None else str(commit)


def _deciding(views: Sequence[RunView], metric: str | None) -> tuple[str | None, Goal | None]:
    """The deciding metric: as compare's (``--metric`` must have a goal), but no recorded
    goal at all is not an error here: a report must still be posted."""
    if metric is None and (not views or not goals(views)):
        return None, None
    if not views:
        raise InvalidValueError(f"no run to find metric {metric!r} in")
    return deciding_metric(views, metric)


def _best(views: Sequence[RunView], metric: str | None, goal: Goal | None,
          what: str) -> RunView | None:
    """The side's best run by the deciding metric; its newest without one; ``None`` for no
    run (or none with a value of the metric)."""
    if not views:
        return None
    if metric is None or goal is None:
        return views[0]
    try:
        return best_run(views, metric, goal, what)
    except NotFoundError:
        return None
