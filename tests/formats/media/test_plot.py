"""gittrack.plot: each chart is a table plus a valid Vega-Lite specification that names the
table's columns; curves match a direct computation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import gittrack
from gittrack import plot
from gittrack.errors import InvalidValueError
from gittrack.formats.media.chart import Chart
from gittrack.formats.media.table import Table
from tests.helpers.stored_media import round_trip, stored

RNG = np.random.default_rng(7)
Y_TRUE = RNG.integers(0, 3, 300)
Y_PROBAS = RNG.random((300, 3)) + np.eye(3)[Y_TRUE]  # informative scores
Y_PROBAS /= Y_PROBAS.sum(axis=1, keepdims=True)


def fields(spec: Any) -> list[str]:
    """Every field an encoding names (unescaped), wherever it is nested."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "field" and isinstance(value, str):
                found.append(value.replace("\\.", ".").replace("\\[", "[").replace("\\]", "]"))
            else:
                found.extend(fields(value))
    elif isinstance(spec, list):
        for value in spec:
            found.extend(fields(value))
    return found


def check_vega_lite(chart: Chart) -> None:
    spec = chart.spec
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert spec["data"] == {"name": "table"}
    mark = spec["mark"]
    assert (mark if isinstance(mark, str) else mark["type"]) in {
        "line", "point", "bar", "rect", "area", "tick", "circle"}
    assert spec["encoding"] and all(
        set(channel) & {"field", "aggregate"} for channel in spec["encoding"].values())
    for channel in spec["encoding"].values():
        assert channel["type"] in {"quantitative", "nominal", "ordinal", "temporal"}
    named = fields(spec)
    assert named and set(named) <= set(chart.table.columns)
    json.dumps(spec, allow_nan=False)


def table() -> Table:
    return Table(columns=["epoch", "loss", "run.name"],
                 data=[[i, 1 / (i + 1), "a" if i % 2 else "b"] for i in range(10)])


def all_charts() -> list[Chart]:
    return [
        plot.line(table(), "epoch", "loss", stroke="run.name", title="Loss"),
        plot.line_series([0, 1, 2], [[1, 2, 3], [3, 2, 1]], keys=["up", "down"], xname="step"),
        plot.line_series([[0, 1], [0, 1, 2]], [[1, 2], [3, 2, 1]]),
        plot.scatter(table(), "epoch", "loss"),
        plot.bar(table(), "run.name", "loss", title="Bars"),
        plot.histogram(table(), "loss"),
        plot.confusion_matrix(y_true=Y_TRUE, preds=np.argmax(Y_PROBAS, 1)),
        plot.confusion_matrix(probs=Y_PROBAS, y_true=Y_TRUE, class_names=["a", "b", "c"]),
        plot.pr_curve(Y_TRUE, Y_PROBAS, labels=["a", "b", "c"]),
        plot.roc_curve(Y_TRUE, Y_PROBAS, classes_to_plot=[1]),
        plot.plot_table("wandb/line/v0", table(), {"x": "epoch", "y": "loss"},
                        {"title": "Custom"}),
        plot.plot_table("wandb/bar/v0", table(), {"label": "run.name", "value": "loss"}),
        plot.plot_table("someone/else/v1", table(), {"x": "epoch", "y": "loss"}),
    ]


def test_plot_is_reached_from_gittrack() -> None:
    assert gittrack.plot is plot


@pytest.mark.parametrize("chart", all_charts(), ids=lambda c: repr(c))
def test_each_chart_is_valid_vega_lite_on_its_table(chart: Chart) -> None:
    check_vega_lite(chart)


@pytest.mark.parametrize("chart", all_charts(), ids=lambda c: repr(c))
def test_each_chart_reads_back_equal(chart: Chart) -> None:
    item, row = stored(chart.payloads("chart")[-1])
    assert row.kind == "chart" and item.format == "parquet"
    assert item.meta["spec"] == chart.spec and item.length == len(chart.table.data)
    back = round_trip(chart)
    assert isinstance(back, Chart) and back == chart
    assert back.table.columns == chart.table.columns and back.spec == chart.spec


def test_titles_and_wandb_table_names() -> None:
    assert plot.line(table(), "epoch", "loss", title="Loss").spec["title"] == "Loss"
    series = plot.line_series([0, 1], [[5, 6]], keys=["k"])
    assert series.table.columns == ["step", "lineKey", "lineVal"]
    assert series.table.data == [[0, "k", 5], [1, "k", 6]]
    matrix = plot.confusion_matrix(y_true=[0, 1, 1], preds=[0, 1, 0], class_names=["n", "p"])
    assert matrix.table.columns == ["Actual", "Predicted", "nPredictions"]
    assert matrix.table.data == [["n", "n", 1], ["n", "p", 0], ["p", "n", 1], ["p", "p", 1]]


def naive_curve(positive: np.ndarray, score: np.ndarray) -> set[tuple[float, float, float]]:
    """(precision, recall, fpr) at every threshold, by counting."""
    points = {(1.0, 0.0, 0.0)}
    for threshold in np.unique(score):
        chosen = score >= threshold
        tp = float((chosen & positive).sum())
        fp = float((chosen & ~positive).sum())
        points.add((tp / (tp + fp), tp / positive.sum(), fp / (~positive).sum()))
    return points


def test_pr_and_roc_curves_match_counting() -> None:
    y_true = RNG.integers(0, 2, 60)
    scores = np.round(RNG.random((60, 2)), 1)  # ties among scores
    expected = naive_curve(y_true == 1, scores[:, 1])
    pr = plot.pr_curve(y_true, scores, classes_to_plot=[1])
    got = {(round(p, 12), round(r, 12)) for _, r, p in pr.table.data}
    assert got == {(round(p, 12), round(r, 12)) for p, r, _ in expected}
    roc = plot.roc_curve(y_true, scores, classes_to_plot=[1])
    got = {(round(f, 12), round(t, 12)) for _, f, t in roc.table.data}
    assert got == {(round(f, 12), round(r, 12)) for _, r, f in expected}
    assert {c for c, _, _ in plot.pr_curve(y_true, scores).table.data} == {"0", "1"}


def test_class_names_as_y_true() -> None:
    names = np.array(["dog", "cat", "cat", "dog"])
    scores = np.array([[0.2, 0.8], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    by_index = plot.roc_curve([1, 0, 0, 1], scores, labels=["cat", "dog"])
    assert plot.roc_curve(names, scores, labels=["cat", "dog"]).table == by_index.table
    sorted_names = plot.roc_curve(list(names), scores)  # cat, dog: sorted
    assert [r[1:] for r in sorted_names.table.data] == [r[1:] for r in by_index.table.data]
    with pytest.raises(InvalidValueError, match="'bird'"):
        plot.pr_curve(["bird", "cat"], scores[:2], labels=["cat", "dog"])


def test_one_probability_per_row_is_binary() -> None:
    y_true = np.array([0, 1, 1, 0])
    chart = plot.roc_curve(y_true, np.array([0.1, 0.9, 0.8, 0.3]), classes_to_plot=[1])
    assert chart.table.data[-1][1:] == [1.0, 1.0]


def test_long_curves_are_thinned() -> None:
    y_true = RNG.integers(0, 2, 20_000)
    chart = plot.roc_curve(y_true, RNG.random(20_000), classes_to_plot=[1])
    assert len(chart.table.data) == plot.MAX_CURVE_POINTS
    assert chart.table.data[0][1:] == [0.0, 0.0] and chart.table.data[-1][1:] == [1.0, 1.0]


def test_vega_keeps_a_custom_specification() -> None:
    spec = {"mark": "tick", "encoding": {"x": {"field": "loss", "type": "quantitative"}}}
    chart = plot.vega(spec, table())
    assert chart.spec["data"] == {"name": "table"} and chart.spec["mark"] == "tick"
    check_vega_lite(chart)
    assert round_trip(plot.vega(json.dumps(spec), table())).spec == chart.spec


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: plot.line(table(), "epoch", "nope"), "no column 'nope'"),
    (lambda: plot.line([[1, 2]], "x", "y"), "gittrack.Table"),
    (lambda: plot.scatter(table(), "x", "loss"), "no column 'x'"),
    (lambda: plot.bar(table(), "run.name", "value"), "no column 'value'"),
    (lambda: plot.histogram(table(), "v"), "no column 'v'"),
    (lambda: plot.line_series([0, 1], [[1, 2, 3]]), "3 y values for 2 x values"),
    (lambda: plot.line_series([0, 1], [[1, 2]], keys=["a", "b"]), "one key"),
    (lambda: plot.confusion_matrix(y_true=[0, 1]), "either probs= or preds="),
    (lambda: plot.confusion_matrix(y_true=[0, 1], preds=[0]), "2 values"),
    (lambda: plot.confusion_matrix(y_true=[0, 5], preds=[0, 1], class_names=["a"]),
     "class_names"),
    (lambda: plot.confusion_matrix(y_true=[0.5, 1], preds=[0, 1]), "class indices"),
    (lambda: plot.pr_curve([0, 1], [[0.5, 0.5]]), "2 values, y_probas 1 rows"),
    (lambda: plot.pr_curve([0, 3], [[0.5, 0.5], [0.1, 0.9]]), "class 3"),
    (lambda: plot.roc_curve([0, 1], [[0.5, 0.5], [0.1, 0.9]], labels=["a"]), "1 labels"),
    (lambda: plot.roc_curve([0, 1], [[0.5, 0.5], [0.1, 0.9]], classes_to_plot=[4]),
     "classes_to_plot"),
    (lambda: plot.roc_curve([0, 1], [[np.nan, 0.5], [0.1, 0.9]]), "finite"),
    (lambda: plot.vega({"encoding": {}}, table()), "no mark"),
    (lambda: plot.vega("{not json", table()), "not JSON"),
    (lambda: plot.plot_table("wandb/line/v0", table(), {"x": "epoch"}), "missing: y"),
])
def test_refused_charts_say_what_was_expected(make: object, expected: str) -> None:
    with pytest.raises(InvalidValueError, match=expected):
        make()  # type: ignore[operator]


def test_a_specification_that_is_not_json_is_refused_in_log() -> None:
    chart = plot.vega({"mark": "point", "width": float("nan")}, table())
    with pytest.raises(InvalidValueError, match=r"'c'.*JSON"):
        chart.payloads("c")


def test_wandb_arguments_without_effect_are_accepted() -> None:
    assert gittrack.plot_table is plot.plot_table
    chart = plot.line(table(), "epoch", "loss", title="", split_table=True)
    check_vega_lite(chart)
    curve = plot.pr_curve(y_true=Y_TRUE, y_probas=Y_PROBAS, interp_size=21, split_table=True)
    assert curve.table.columns == ["class", "recall", "precision"]
