"""The comparison's pieces: verdicts from goals, goals from run.yaml, sparklines, best run."""

from __future__ import annotations

from pathlib import Path

import pytest

from gittrack.errors import InvalidValueError, NotFoundError
from gittrack.git.repo import Repository, discover
from gittrack.runs.compare import (
    best_run,
    compare_runs,
    deciding_metric,
    sparkline,
)
from gittrack.runs.resolve import resolve_run
from tests.helpers.runs import start_run


def test_sparkline_samples_to_twenty_points() -> None:
    assert sparkline([0, 7]) == "▁█"
    assert sparkline([1, None, float("nan"), 3, 2]) == "▁█▅"
    assert sparkline([5, 5]) == "▄▄"
    assert sparkline([]) == ""
    long = sparkline(list(range(1000)))
    assert len(long) == 20 and long[0] == "▁" and long[-1] == "█"


@pytest.fixture
def runs(repo: Path, fast_settings: dict[str, object]) -> Repository:
    for name, loss, goal in (("a", 0.5, "minimize"), ("b", 0.3, "minimize"), ("c", 0.1, None)):
        run = start_run(name=name, config={"lr": loss}, settings=fast_settings)
        if goal is not None:
            run.define_metric("loss", goal=goal)
        run.log({"loss": loss, "x": 1})
        run.finish()
    return discover(repo)


def test_best_run_and_the_deciding_metric(runs: Repository) -> None:
    views = [resolve_run(runs, n) for n in ("a", "b", "c")]
    assert deciding_metric(views, None) == ("loss", "minimize")
    assert best_run(views, "loss", "minimize", "here").name == "c"
    assert best_run(views, "loss", "maximize", "here").name == "a"
    with pytest.raises(InvalidValueError, match="'x'"):
        deciding_metric(views, "x")
    with pytest.raises(InvalidValueError, match="--metric"):
        deciding_metric(views[2:], None)
    with pytest.raises(NotFoundError, match="'nope'"):
        best_run(views, "nope", "minimize", "here")


def test_compare_lists_only_differences_unless_everything(runs: Repository) -> None:
    views = [resolve_run(runs, n) for n in ("a", "b")]
    diffs = compare_runs(views)
    assert [r.key for r in diffs.config] == ["lr"]
    assert [r.key for r in diffs.summary] == ["loss"]  # x is the same in both
    assert diffs.summary[0].verdicts == ("good",)
    assert "x" in [r.key for r in compare_runs(views, everything=True).summary]
    with pytest.raises(InvalidValueError, match="two runs"):
        compare_runs(views[:1])
