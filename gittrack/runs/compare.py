"""Comparing two or more runs for review: config differences, summary and metric values with a
good/bad direction from the goal each run recorded (``define_metric(goal=...)`` or
``summary="min"/"max"``), the data versions used, and sparklines of the histories.

The first run is the baseline: deltas are ``run - first``. Value comparison, flattening and
metric statistics come from ``gittrack.runs.diff`` (the two-run diff).

>>> c = compare_runs([resolve_run(repo, "a"), resolve_run(repo, "b")])  # doctest: +SKIP
>>> [row.key for row in c.config]                                       # doctest: +SKIP
['lr']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from gittrack.errors import AmbiguousNameError, InvalidValueError, NotFoundError, UsageError
from gittrack.formats.display import flatten, is_number
from gittrack.formats.table import SYSTEM_COLUMNS
from gittrack.git.repo import Repository
from gittrack.runs.diff import NOISE_KEYS, NOISE_METADATA, delta, metric_stats, same
from gittrack.runs.goals import Goal, Verdict, goal_for, goals, verdict
from gittrack.runs.lineage import artifact_specs
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import RunView, all_runs, warn_unreadable
from gittrack.urls import commit_url

SPARK = "▁▂▃▄▅▆▇█"
SPARK_POINTS = 20
"""A sparkline samples a history down to about this many points."""



@dataclasses.dataclass(frozen=True, slots=True)
class Side:
    """One compared run: which it is, the code it ran and the data versions it used."""

    id: str
    name: str
    commit: str | None
    branch: str | None
    used: tuple[str, ...]
    commit_url: str | None = None
    """A web link to the commit when the run's code remote is a known forge."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "commit": self.commit,
                "commit_url": self.commit_url, "branch": self.branch, "used": list(self.used)}


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One key across the runs: its value in each (``None`` when absent, with ``present``
    false), the goal recorded for it, and for each run after the first the delta from the
    first and whether that is good, bad, neutral (no goal) or the same."""

    key: str
    values: tuple[Any, ...]
    present: tuple[bool, ...]
    goal: Goal | None = None
    sparks: tuple[str, ...] = ()

    @property
    def deltas(self) -> tuple[float | None, ...]:
        base = self.values[0]
        return tuple(delta(base, v) for v in self.values[1:])

    @property
    def verdicts(self) -> tuple[Verdict | None, ...]:
        return tuple(verdict(d, self.goal) for d in self.deltas)

    @property
    def differs(self) -> bool:
        first = (self.present[0], self.values[0])
        return any(not same(first, (p, v)) for p, v in zip(self.present, self.values,
                                                             strict=True))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "values": list(self.values),
                               "present": list(self.present), "goal": self.goal,
                               "deltas": list(self.deltas), "verdicts": list(self.verdicts)}
        if self.sparks:
            out["sparklines"] = list(self.sparks)
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    runs: tuple[Side, ...]
    config: tuple[Row, ...]
    summary: tuple[Row, ...]
    metrics: tuple[Row, ...]
    noise: tuple[Row, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.runs],
                "config": [r.to_dict() for r in self.config],
                "summary": [r.to_dict() for r in self.summary],
                "metrics": [r.to_dict() for r in self.metrics],
                "noise": [r.to_dict() for r in self.noise]}


def sparkline(values: Sequence[Any], points: int = SPARK_POINTS) -> str:
    """``values`` (numbers; others and NaN skipped) sampled to ``points`` as ▁▂▃▄▅▆▇█."""
    numbers = [float(v) for v in values if is_number(v) and math.isfinite(float(v))]
    if len(numbers) > points:
        numbers = [numbers[round(i * (len(numbers) - 1) / (points - 1))] for i in range(points)]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    if high == low:
        return SPARK[3] * len(numbers)
    top = len(SPARK) - 1
    return "".join(SPARK[round((n - low) / (high - low) * top)] for n in numbers)


def _side(view: RunView) -> Side:
    code = view.info.code or {}
    commit, branch, remote = (code.get(k) for k in ("commit", "branch", "remote"))
    commit = None if commit is None else str(commit)
    return Side(id=view.id, name=view.name, commit=commit,
                branch=None if branch is None else str(branch),
                used=tuple(artifact_specs(view.metadata, "used")),
                commit_url=commit_url(None if remote is None else str(remote), commit))


def _rows(maps: Sequence[Mapping[str, Any]], recorded: Mapping[str, Goal] | None = None,
          keys: Sequence[str] | None = None) -> list[Row]:
    order = keys if keys is not None else list(dict.fromkeys(k for m in maps for k in m))
    rows = []
    for key in order:
        if not any(key in m for m in maps):
            continue
        values = tuple(m.get(key) for m in maps)
        counts = [histogram_counts(v) for v in values]
        sparks: tuple[str, ...] = ()
        if any(c is not None for c in counts):
            sparks = tuple("" if c is None else sparkline(c) for c in counts)
        rows.append(Row(key, values, tuple(key in m for m in maps),
                        goal_for(key, recorded) if recorded is not None else None, sparks))
    return rows


def histogram_counts(value: Any) -> list[Any] | None:
    """A summary histogram's bin counts (``{"_type": "histogram", "values", "bins"}``)."""
    if isinstance(value, Mapping) and value.get("_type") == "histogram":
        counts = value.get("values")
        return counts if isinstance(counts, list) else None
    return None


def compare_runs(views: Sequence[RunView], *, everything: bool = False,
                 noise: bool = False) -> Comparison:
    """Compare ``views`` (two or more; the first is the baseline). Config, summary and
    metadata rows list only keys that differ unless ``everything``; metric rows list every
    numeric history key (last value and sparkline); noise rows only when ``noise``."""
    if len(views) < 2:
        raise InvalidValueError(f"compare needs at least two runs, got {len(views)}")
    recorded = goals(views)
    configs = [flatten(v.config) for v in views]
    summaries = [flatten(v.summary) for v in views]
    metas = [flatten(v.metadata) for v in views]
    histories = [v.history_arrow() for v in views]
    stats = [metric_stats(h) for h in histories]
    metric_keys = list(dict.fromkeys(k for s in stats for k in s if k not in SYSTEM_COLUMNS))
    metrics = []
    for key in metric_keys:
        last = tuple(s[key].last if key in s else None for s in stats)
        sparks = tuple(sparkline(h.column(key).to_pylist()) if key in h.column_names else ""
                       for h in histories)
        metrics.append(Row(key, last, tuple(key in s for s in stats), goal_for(key, recorded),
                           sparks))

    def keep(rows: list[Row]) -> tuple[Row, ...]:
        return tuple(r for r in rows if everything or r.differs)

    plain_summaries = [{k: v for k, v in s.items() if k not in NOISE_KEYS} for s in summaries]
    noise_rows: tuple[Row, ...] = ()
    if noise:
        noise_maps = [{**{k: m[k] for k in NOISE_METADATA if k in m},
                       **{k: s[k] for k in NOISE_KEYS if k in s}} for m, s in
                      zip(metas, summaries, strict=True)]
        noise_rows = tuple(_rows(noise_maps))
    return Comparison(runs=tuple(_side(v) for v in views), config=keep(_rows(configs)),
                      summary=keep(_rows(plain_summaries, recorded)),
                      metrics=tuple(metrics), noise=noise_rows)


# -- best run per branch ------------------------------------------------------------------


def deciding_metric(views: Sequence[RunView], metric: str | None) -> tuple[str, Goal]:
    """The metric that picks the best run and its goal: ``metric`` when given (it must have
    a recorded goal), else the first metric with a recorded goal."""
    recorded = goals(views)
    if metric is not None:
        goal = goal_for(metric, recorded)
        if goal is None:
            raise InvalidValueError(
                f"metric {metric!r} has no recorded goal in these runs; record one with "
                f"define_metric({metric!r}, goal='minimize' or 'maximize')")
        return metric, goal
    if not recorded:
        raise InvalidValueError(
            "no metric of these runs has a recorded goal; pass --metric KEY of a metric "
            "defined with define_metric(KEY, goal='minimize' or 'maximize')")
    name, goal = next(iter(recorded.items()))
    return name, goal


def metric_value(view: RunView, metric: str, goal: Goal) -> float | None:
    """The run's value of ``metric``: its summary value (or the summary's ``min`` for a
    minimized metric, ``max`` for a maximized one), else the last value logged."""
    summary = flatten(view.summary)
    best = f"{metric}.{'min' if goal == 'minimize' else 'max'}"
    for value in (summary.get(metric), summary.get(best)):
        if is_number(value) and not isinstance(value, bool) and math.isfinite(float(value)):
            return float(value)
    stats = metric_stats(view.history_arrow()).get(metric)
    if stats is not None and is_number(stats.last) and math.isfinite(float(stats.last)):
        return float(stats.last)
    return None


def on_branch(views: Sequence[RunView], branch: str) -> list[RunView]:
    """The runs whose recorded code branch is ``branch``."""
    return [v for v in views if (v.info.code or {}).get("branch") == branch]


def best_run(views: Sequence[RunView], metric: str, goal: Goal, what: str) -> RunView:
    """The run of ``views`` with the best value of ``metric`` by ``goal`` (ties: newest)."""
    scored = [(value, view) for view in views
              if (value := metric_value(view, metric, goal)) is not None]
    if not scored:
        raise NotFoundError(f"no run {what} has a value of metric {metric!r}")
    pick = min if goal == "minimize" else max
    return pick(scored, key=lambda pair: pair[0])[1]


def best_on_branches(views: Sequence[RunView], branches: Sequence[str],
                     metric: str | None) -> list[RunView]:
    """Each branch's best run among ``views`` (by its recorded ``code.branch``), one deciding
    metric for all (``deciding_metric`` over every branch's runs). A branch without runs is a
    usage error naming it."""
    per_branch = {branch: on_branch(views, branch) for branch in branches}
    for branch, runs in per_branch.items():
        if not runs:
            raise UsageError(f"no run was made on branch {branch!r}")
    name, goal = deciding_metric([v for r in per_branch.values() for v in r], metric)
    return [best_run(per_branch[branch], name, goal, f"on branch {branch!r}")
            for branch in branches]


def runs_or_branches(repo: Repository, specs: Sequence[str],
                     metric: str | None = None) -> list[RunView]:
    """The run each spec names (id, id prefix or name), or, when it names none, the best run
    of the branch of that name (``best_on_branches``: one deciding metric for the branches).
    A spec that is neither keeps ``resolve_run``'s error, saying no branch has runs either."""
    named: dict[int, RunView] = {}
    missing: dict[int, NotFoundError] = {}
    for i, spec in enumerate(specs):
        try:
            named[i] = resolve_run(repo, spec)
        except AmbiguousNameError:
            raise
        except NotFoundError as error:
            missing[i] = error
    if missing:
        every = all_runs(repo, warn_unreadable)
        for i, why in missing.items():
            if not on_branch(every, specs[i]):
                raise NotFoundError(f"{why}, and no run was made on a branch of that name"
                                    ) from None
        best = best_on_branches(every, [specs[i] for i in missing], metric)
        named.update(zip(missing, best, strict=True))
    return [named[i] for i in range(len(specs))]
