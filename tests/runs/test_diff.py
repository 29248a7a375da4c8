from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pygit2
import pytest

import gittrack
from gittrack.runs.diff import (
    MAX_COMMITS,
    Change,
    MetricStats,
    code_range,
    compare,
    delta,
    diff_runs,
    metric_deltas,
    metric_stats,
    relative,
    same,
)
from tests.helpers.repos import git
from tests.helpers.runs import make_run


@pytest.mark.parametrize(("a", "b", "expected"), [
    (float("nan"), float("nan"), True),
    (1, 1.0, True),
    (True, 1, False),
    (0, False, False),
    (True, True, True),
    ([1, float("nan")], [1, float("nan")], True),
    ({"x": [1]}, {"x": [2]}, False),
    ("1", 1, False),
    (None, None, True),
    (float("inf"), float("inf"), True),
])
def test_same(a: object, b: object, expected: bool) -> None:
    assert same(a, b) is expected


def test_compare_orders_by_a_then_new_keys_of_b() -> None:
    changes = compare({"x": 1, "y": 2, "gone": True}, {"y": 3, "x": 1, "new": None})
    assert changes == (
        Change("y", "changed", 2, 3), Change("gone", "removed", True, None),
        Change("new", "added", None, None),
    )


def test_compare_over_given_keys_only() -> None:
    changes = compare({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}, keys=["c", "b", "zzz"])
    assert [c.key for c in changes] == ["c", "b"]


def test_deltas_only_for_numbers() -> None:
    assert Change("k", "changed", 0.5, 0.25).delta == -0.25
    assert Change("k", "changed", 0.5, 0.25).relative == -0.5
    assert Change("k", "changed", 3, 5).delta == 2
    assert Change("k", "changed", "a", "b").delta is None
    assert Change("k", "changed", True, False).delta is None
    assert Change("k", "added", None, 1.0).delta is None
    assert relative(0, 1) is None
    assert relative(float("inf"), 1.0) is None
    assert delta(1.0, float("inf")) == math.inf
    nan_delta = delta(float("inf"), float("inf"))
    assert nan_delta is not None and math.isnan(nan_delta)


def test_metric_stats_with_nan_nulls_bools_and_strings() -> None:
    history = pa.table({
        "_step": pa.array([0, 1, 2, 3], pa.int64()),
        "_timestamp": pa.array([0.0] * 4), "_runtime": pa.array([0.0] * 4),
        "loss": pa.array([2.0, float("nan"), 0.5, None]),
        "count": pa.array([None, 3, 1, 7], pa.int64()),
        "flag": pa.array([True, None, False, None]),
        "all_nan": pa.array([float("nan"), None, None, None]),
        "empty": pa.nulls(4, pa.float64()),
        "text": pa.array(["a", None, None, "b"]),
    })
    stats = metric_stats(history)
    assert list(stats) == ["loss", "count", "flag", "all_nan", "empty"]
    assert stats["loss"] == MetricStats(last=0.5, min=0.5, max=2.0, count=3)
    assert stats["count"] == MetricStats(last=7, min=1, max=7, count=3)
    assert stats["flag"] == MetricStats(last=0, min=0, max=1, count=2)
    assert stats["all_nan"].count == 1 and math.isnan(stats["all_nan"].last or 0.0)
    assert stats["empty"] == MetricStats(None, None, None, 0)


def test_metric_deltas_cover_keys_of_either_run() -> None:
    a = {"loss": MetricStats(1.0, 0.5, 2.0, 3), "old": MetricStats(1, 1, 1, 1)}
    b = {"loss": MetricStats(0.5, 0.25, 2.0, 4), "new": MetricStats(2, 2, 2, 1)}
    deltas = metric_deltas(a, b)
    assert [d.key for d in deltas] == ["loss", "old", "new"]
    assert deltas[0].deltas() == {"last": -0.5, "min": -0.25, "max": 0.0}
    assert deltas[1].b is None and deltas[1].deltas()["last"] is None
    assert all(d.changed for d in deltas)
    assert not metric_deltas(a, a)[0].changed
    more_steps = {"loss": MetricStats(1.0, 0.5, 2.0, 30)}
    assert not metric_deltas(a, more_steps)[0].changed  # same values, more of them
    nan = {"x": MetricStats(float("nan"), 1.0, 1.0, 2)}
    assert not metric_deltas(nan, nan)[0].changed


def _commit(path: Path, message: str) -> str:
    with (path / "train.py").open("a") as f:
        f.write(f"# {message}\n")
    git(path, "commit", "-q", "-am", message)
    return git(path, "rev-parse", "HEAD").strip()


def test_code_range_lists_commits_between_oldest_first(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    shas = [_commit(repo, f"change {i}") for i in range(3)]
    result = code_range(pygit2.Repository(str(repo)), base, shas[-1])
    assert result.status == "compared"
    assert [c.sha for c in result.commits] == shas
    assert [c.subject for c in result.commits] == ["change 0", "change 1", "change 2"]
    assert result.commits[0].short == shas[0][:7]
    assert (result.more, result.behind, result.ahead) == (0, 0, 3)
    backwards = code_range(pygit2.Repository(str(repo)), shas[-1], base)
    assert (backwards.commits, backwards.behind) == ((), 3)


def test_code_range_caps_the_list(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    shas = [_commit(repo, f"c{i}") for i in range(MAX_COMMITS + 3)]
    result = code_range(pygit2.Repository(str(repo)), base, shas[-1])
    assert len(result.commits) == MAX_COMMITS
    assert result.commits[0].sha == shas[0]
    assert result.more == 3 and result.ahead == MAX_COMMITS + 3


def test_code_range_same_missing_or_unknown(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    r = pygit2.Repository(str(repo))
    assert code_range(r, head, head).status == "same"
    assert code_range(r, None, head).status == "unknown"
    assert code_range(r, head, "0" * 40).status == "unknown"
    assert code_range(r, head, "not-a-sha").status == "unknown"
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    assert code_range(r, head, tree).status == "unknown"  # not a commit
    assert code_range(r, None, None).status == "unknown"  # e.g. a repo with no commits


def test_diff_runs_end_to_end(repo: Path, fast_settings: dict[str, object]) -> None:
    a_id = make_run([{"loss": 1.0}, {"loss": 0.5, "acc": 0.1}], project="p", name="a",
                    config={"lr": 0.1, "opt": {"name": "adam"}, "seed": 1},
                    settings=fast_settings).id
    head = _commit(repo, "faster loader")
    b_id = make_run([{"loss": 0.8}, {"loss": 0.25}, {"loss": 0.3, "val": float("nan")}],
                    project="p", name="b",
                    config={"lr": 0.05, "opt": {"name": "sgd"}, "wd": 0.01},
                    settings=fast_settings).id
    r = pygit2.Repository(str(repo))
    api = gittrack.Api(".")
    result = diff_runs(r, api.run(a_id), api.run(b_id))
    assert (result.a.id, result.b.name) == (a_id, "b")
    assert {(c.key, c.kind) for c in result.config} == {
        ("lr", "changed"), ("opt.name", "changed"), ("seed", "removed"), ("wd", "added")}
    lr = next(c for c in result.config if c.key == "lr")
    assert lr.delta == pytest.approx(-0.05) and lr.relative == pytest.approx(-0.5)
    loss = next(c for c in result.summary if c.key == "loss")
    assert (loss.a, loss.b) == (0.5, 0.3)
    assert loss.delta == pytest.approx(-0.2)
    meta = {c.key: c for c in result.metadata}
    assert meta["steps"].a == 2 and meta["steps"].b == 3
    assert meta["code.commit"].b == head
    metrics = {m.key: m for m in result.metrics}
    assert metrics["loss"].a == MetricStats(0.5, 0.5, 1.0, 2)
    assert metrics["loss"].b == MetricStats(0.3, 0.25, 0.8, 3)
    assert metrics["acc"].b is None and metrics["val"].a is None
    assert [c.subject for c in result.code.commits] == ["faster loader"]
    assert not result.is_empty
    json.dumps(result.to_dict(), allow_nan=True)  # plain data all the way down


def test_diff_of_a_run_with_itself_is_empty(repo: Path, fast_settings: dict[str, object]) -> None:
    rid = make_run([{"loss": float("nan")}, {"s": "t"}], project="p", name="x",
                   config={"lr": float("nan")}, settings=fast_settings).id
    view = gittrack.Api(".").run(rid)
    result = diff_runs(pygit2.Repository(str(repo)), view, view)
    assert result.is_empty
    assert result.code.status == "same"
    assert [m.key for m in result.metrics] == ["loss"]  # strings have no statistics
