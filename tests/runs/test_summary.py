from __future__ import annotations

import math
from typing import Any

import pytest

from gittrack.errors import InvalidValueError
from gittrack.formats.histogram import Histogram
from gittrack.runs.summary import MetricSpec, SummaryTracker


def tracked(specs: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    tracker = SummaryTracker()
    for name, summary in specs.items():
        tracker.define(MetricSpec.build(name, None, summary, None, False))
    for row in rows:
        tracker.update(row, any(isinstance(v, Histogram) for v in row.values()))
    return tracker.values


ROWS = [{"loss": 3.0}, {"loss": 1.0}, {"loss": 2.0}]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (None, 2.0),
        ("last", 2.0),
        ("min", {"min": 1.0}),
        ("max", {"max": 3.0}),
        ("mean", {"mean": 2.0}),
        ("first", {"first": 3.0}),
        ("min,max", {"min": 1.0, "max": 3.0}),
        (["mean", "last"], {"mean": 2.0, "last": 2.0}),
        (" MIN , Max ", {"min": 1.0, "max": 3.0}),
    ],
)
def test_aggregates(summary: Any, expected: Any) -> None:
    assert tracked({"loss": summary}, ROWS) == {"loss": expected}


def test_none_leaves_the_key_out() -> None:
    assert tracked({"loss": "none"}, [*ROWS, {"acc": 1}]) == {"acc": 1}
    assert MetricSpec.build("x", None, "min,none", None, False).summary == ("none",)


def test_last_value_by_default_for_every_type() -> None:
    hist = Histogram.from_bins([1.0], [0.0, 1.0])
    assert tracked({}, [{"a": 1, "s": "x", "h": hist}, {"a": 2}]) == {
        "a": 2, "s": "x", "h": hist.to_dict()}


def test_globs_match_many_keys_and_exact_names_win() -> None:
    values = tracked({"val/*": "max", "val/loss": "min"},
                     [{"val/acc": 0.5, "val/loss": 2.0, "train/loss": 9.0},
                      {"val/acc": 0.7, "val/loss": 1.0, "train/loss": 8.0}])
    assert values == {"val/acc": {"max": 0.7}, "val/loss": {"min": 1.0}, "train/loss": 8.0}


def test_nan_and_infinities() -> None:
    values = tracked({"a": "min,max,mean,last"}, [{"a": math.nan}, {"a": 1.0}, {"a": math.inf}])
    assert values["a"]["min"] == 1.0 and values["a"]["max"] == math.inf
    assert values["a"]["mean"] == math.inf
    assert values["a"]["last"] == math.inf
    only_nan = tracked({"b": "min,last"}, [{"b": math.nan}])
    assert "min" not in only_nan["b"] and math.isnan(only_nan["b"]["last"])


def test_strings_have_first_and_last_but_no_min() -> None:
    assert tracked({"s": "min,first,last"}, [{"s": "a"}, {"s": "b"}]) == {
        "s": {"first": "a", "last": "b"}}


def test_goal_turns_best_into_min_or_max() -> None:
    assert MetricSpec.build("l", None, "best", "minimize", False).summary == ("min",)
    assert MetricSpec.build("a", None, "best", "maximize", False).summary == ("max",)


@pytest.mark.parametrize(("summary", "goal", "message"), [
    ("median", None, "unknown summary 'median' for metric 'x'"),
    ("best", None, "unknown summary 'best'"),
    ("min", "lowest", "goal must be"),
])
def test_bad_definitions(summary: str, goal: str | None, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        MetricSpec.build("x", None, summary, goal, False)


def test_spec_dict_round_trip() -> None:
    spec = MetricSpec.build("val/*", "epoch", "min,max", "minimize", True)
    assert MetricSpec.from_dict("val/*", spec.to_dict()) == spec
    assert MetricSpec.build("x", None, None, None, False).to_dict() == {"summary": ["last"]}


def test_defining_later_changes_new_values_only() -> None:
    tracker = SummaryTracker()
    tracker.update({"a": 5.0}, False)
    tracker.define(MetricSpec.build("a", None, "max", None, False))
    tracker.update({"a": 1.0}, False)
    tracker.update({"a": 3.0}, False)
    assert tracker.values == {"a": {"max": 3.0}}
