"""A metric's recorded goal (``define_metric(goal=...)`` or ``summary="min"/"max"``) and the
verdict on a change of it: good towards the goal, bad away, neutral without one. Shared by
``diff`` (two runs) and ``compare`` (two or more)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from gittrack.runs.summary import AGGREGATES
from gittrack.runs.view import RunView

Goal = Literal["minimize", "maximize"]
Verdict = Literal["good", "bad", "neutral", "same"]


def verdict(change: float | None, goal: Goal | None) -> Verdict | None:
    """``good``/``bad`` for a move towards/away from the goal, ``neutral`` without a goal,
    ``same`` for no move, ``None`` when not two numbers."""
    if change is None or change != change:
        return None
    if change == 0:
        return "same"
    if goal is None:
        return "neutral"
    return "good" if (change > 0) == (goal == "maximize") else "bad"


def goals(views: Sequence[RunView]) -> dict[str, Goal]:
    """Each metric's recorded goal, in recording order, the first run's first: ``goal`` of
    ``define_metric``, else a ``summary`` of ``min`` (minimize) or ``max`` (maximize) alone."""
    out: dict[str, Goal] = {}
    for view in views:
        for name, spec in (view.info.metrics or {}).items():
            goal = _goal_of(spec)
            if goal is not None:
                out.setdefault(name, goal)
    return out


def _goal_of(spec: Mapping[str, Any]) -> Goal | None:
    goal = spec.get("goal")
    if goal in ("minimize", "maximize"):
        return goal  # type: ignore[no-any-return]
    summary = set(spec.get("summary") or ())
    if "min" in summary and "max" not in summary:
        return "minimize"
    if "max" in summary and "min" not in summary:
        return "maximize"
    return None


def goal_for(key: str, recorded: Mapping[str, Goal]) -> Goal | None:
    """``key``'s goal: an exact name first, then a glob (``define_metric("val/*", ...)``); a
    summary aggregate (``acc.max``) has its metric's goal."""
    if key in recorded:
        return recorded[key]
    base, _, aggregate = key.rpartition(".")
    if base and aggregate in AGGREGATES:
        return goal_for(base, recorded)
    return next((g for pattern, g in recorded.items() if fnmatch.fnmatchcase(key, pattern)),
                None)
