"""Run summaries: the last value of each key, or aggregates chosen with ``define_metric``."""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from collections.abc import Iterable
from typing import Any

from gittrack.errors import InvalidValueError
from gittrack.formats.display import is_number
from gittrack.formats.histogram import Histogram

AGGREGATES = ("min", "max", "mean", "first", "last", "none")
_GOALS = {"minimize": "min", "maximize": "max"}


@dataclasses.dataclass(frozen=True, slots=True)
class MetricSpec:
    """A ``define_metric`` definition, as stored under ``metrics:`` in ``run.yaml``."""

    name: str
    step_metric: str | None = None
    summary: tuple[str, ...] = ("last",)
    goal: str | None = None
    hidden: bool = False

    @classmethod
    def build(
        cls, name: str, step_metric: str | None, summary: str | Iterable[str] | None,
        goal: str | None, hidden: bool,
    ) -> MetricSpec:
        if goal is not None and goal not in _GOALS:
            raise InvalidValueError(f"goal must be 'minimize' or 'maximize', got {goal!r}")
        if summary is None:
            aggs: tuple[str, ...] = ("last",)
        else:
            parts = summary.split(",") if isinstance(summary, str) else list(summary)
            names = [p.strip().lower() for p in parts if p.strip()]
            if goal is not None:
                names = [_GOALS[goal] if p == "best" else p for p in names]
            for agg in names:
                if agg not in AGGREGATES:
                    raise InvalidValueError(
                        f"unknown summary {agg!r} for metric {name!r}; choose from "
                        f"{', '.join(AGGREGATES)}"
                    )
            aggs = tuple(dict.fromkeys(names)) or ("last",)
            if "none" in aggs:
                aggs = ("none",)
        return cls(name, step_metric, aggs, goal, bool(hidden))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": list(self.summary)}
        if self.step_metric is not None:
            out["step_metric"] = self.step_metric
        if self.goal is not None:
            out["goal"] = self.goal
        if self.hidden:
            out["hidden"] = True
        return out

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> MetricSpec:
        return cls(name, data.get("step_metric"), tuple(data.get("summary", ["last"])),
                   data.get("goal"), bool(data.get("hidden", False)))


class SummaryTracker:
    """Keeps ``values`` (what ``summary.yaml`` holds) up to date as rows are committed.

    Keys without a definition cost one dict assignment per logged value; aggregates are
    computed only for defined metrics. NaN is left out of min, max and mean.
    """

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.specs: dict[str, MetricSpec] = {}
        self.stats: dict[str, dict[str, Any]] = {}
        self._resolved: dict[str, MetricSpec | None] = {}

    def define(self, spec: MetricSpec) -> None:
        self.specs[spec.name] = spec
        self._resolved.clear()

    def spec_for(self, key: str) -> MetricSpec | None:
        try:
            return self._resolved[key]
        except KeyError:
            pass
        spec = self.specs.get(key)
        if spec is None:
            for pattern, candidate in self.specs.items():
                if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
                    spec = candidate
                    break
        self._resolved[key] = spec
        return spec

    def update(self, row: dict[str, Any], has_histogram: bool = True) -> None:
        values = self.values
        if not self.specs:
            if not has_histogram:
                values.update(row)
                return
            for key, value in row.items():
                values[key] = value.to_dict() if isinstance(value, Histogram) else value
            return
        for key, value in row.items():
            spec = self.spec_for(key)
            if spec is None or spec.summary == ("last",):
                values[key] = value.to_dict() if isinstance(value, Histogram) else value
            elif spec.summary == ("none",):
                values.pop(key, None)
            else:
                values[key] = self._aggregate(key, value, spec.summary)

    def _aggregate(self, key: str, value: Any, aggs: tuple[str, ...]) -> dict[str, Any]:
        stats: dict[str, Any] = self.stats.setdefault(key, {})
        plain = value.to_dict() if isinstance(value, Histogram) else value
        stats.setdefault("first", plain)
        stats["last"] = plain
        if is_number(value) and not (
            isinstance(value, float) and math.isnan(value)
        ):
            stats["min"] = value if "min" not in stats else min(stats["min"], value)
            stats["max"] = value if "max" not in stats else max(stats["max"], value)
            stats["sum"] = stats.get("sum", 0.0) + value
            stats["count"] = stats.get("count", 0) + 1
        out: dict[str, Any] = {}
        for agg in aggs:
            if agg == "mean":
                if stats.get("count"):
                    out["mean"] = stats["sum"] / stats["count"]
            elif agg in stats:
                out[agg] = stats[agg]
        return out
