"""The scikit-learn helpers on real fitted models: each chart's table holds the right numbers
(confusion counts, curve end points, importances, learning-curve sizes), logged under W&B's
keys and read back through ``Api``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gittrack
from gittrack.errors import InvalidValueError, NoActiveRunError
from tests.helpers.runs import start_run

pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split

from gittrack.integrations import sklearn as gt_sklearn

NAMES = ["setosa", "versicolor", "virginica"]


def iris() -> tuple[Any, ...]:
    X, y = load_iris(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.5, random_state=0))


def read(run_id: str, key: str) -> Any:
    ((_, chart),) = list(gittrack.Api().run(run_id).media(key))
    return chart


def test_confusion_matrix_counts(repo: Path) -> None:
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 0, 2]
    with start_run() as run:
        gt_sklearn.plot_confusion_matrix(y_true, y_pred, NAMES)
    chart = read(run.id, "confusion_matrix")
    counts = {(a, p): n for a, p, n in chart.table.data}
    assert counts[("setosa", "setosa")] == 1 and counts[("setosa", "versicolor")] == 1
    assert counts[("versicolor", "versicolor")] == 2 and counts[("versicolor", "virginica")] == 1
    assert counts[("virginica", "virginica")] == 3 and counts[("virginica", "setosa")] == 1
    assert sum(counts.values()) == len(y_true) and len(counts) == 9


def test_confusion_matrix_of_names_keeps_the_labels_order_and_unseen_classes() -> None:
    chart = gt_sklearn.plot_confusion_matrix(["dog", "cat", "dog"], ["dog", "dog", "dog"],
                                             labels=["dog", "cat", "bird"], log=False)
    assert chart.table.data[:3] == [["dog", "dog", 2], ["dog", "cat", 0], ["dog", "bird", 0]]
    assert ["cat", "dog", 1] in chart.table.data and len(chart.table.data) == 9
    plain = gt_sklearn.plot_confusion_matrix(["b", "a"], ["b", "b"], log=False)
    assert plain.table.data == [["a", "a", 0], ["a", "b", 1], ["b", "a", 0], ["b", "b", 1]]
    with pytest.raises(InvalidValueError, match="2 labels for 3 classes"):
        gt_sklearn.plot_confusion_matrix(["a", "b", "c"], ["a", "b", "c"], labels=["x", "y"],
                                         log=False)


def test_classifier_charts_from_a_fitted_forest(repo: Path) -> None:
    X_train, X_test, y_train, y_test = iris()
    model = RandomForestClassifier(n_estimators=10, random_state=0, n_jobs=1)
    model.fit(X_train, y_train)
    y_pred, y_probas = model.predict(X_test), model.predict_proba(X_test)
    with start_run() as run:
        charts = gt_sklearn.plot_classifier(model, X_train, X_test, y_train, y_test, y_pred,
                                            y_probas, NAMES, model_name="forest",
                                            feature_names=["sl", "sw", "pl", "pw"])
    view = gittrack.Api().run(run.id)
    assert view.media_keys() == ["confusion_matrix", "roc", "precision_recall",
                                 "class_proportions", "summary_metrics", "feature_importances"]
    assert set(charts) == set(view.media_keys())
    matrix = read(run.id, "confusion_matrix")
    expected = np.zeros((3, 3), dtype=int)
    np.add.at(expected, (y_test, y_pred), 1)
    assert [n for _, _, n in matrix.table.data] == expected.reshape(-1).tolist()
    assert matrix.spec["title"] == "forest: Confusion Matrix"

    roc = read(run.id, "roc")
    assert roc.table.columns == ["class", "fpr", "tpr"]
    assert {c for c, _, _ in roc.table.data} == set(NAMES)
    for name in NAMES:  # each curve runs from (0, 0) to (1, 1)
        points = [(x, y) for c, x, y in roc.table.data if c == name]
        assert points[0] == (0.0, 0.0) and points[-1] == (1.0, 1.0)
    assert read(run.id, "precision_recall").table.columns == ["class", "recall", "precision"]

    importances = read(run.id, "feature_importances")
    order = np.argsort(-model.feature_importances_)
    assert [f for f, _ in importances.table.data] == [["sl", "sw", "pl", "pw"][i] for i in order]
    assert [v for _, v in importances.table.data] == \
        pytest.approx(model.feature_importances_[order].tolist())
    accuracy = float(np.mean(y_pred == y_test))
    assert view.summary["accuracy"] == pytest.approx(accuracy)
    assert dict(read(run.id, "summary_metrics").table.data)["accuracy"] == pytest.approx(accuracy)


def test_learning_curve_and_regressor_charts(repo: Path) -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LinearRegression().fit(X_train, y_train)
    with start_run() as run:
        gt_sklearn.plot_regressor(model, X_train, X_test, y_train, y_test, model_name="ols")
    view = gittrack.Api().run(run.id)
    assert set(view.media_keys()) == {"summary_metrics", "residuals", "learning_curve",
                                      "feature_importances"}
    predicted = model.predict(X_test)
    assert view.summary["mse"] == pytest.approx(float(np.mean((y_test - predicted) ** 2)))
    residuals = read(run.id, "residuals")
    assert [r for _, r in residuals.table.data] == pytest.approx((y_test - predicted).tolist())
    curve = read(run.id, "learning_curve")
    assert curve.table.columns == ["train_size", "score", "dataset"]
    sizes = [s for s, _, d in curve.table.data if d == "train"]
    assert len(sizes) == 5 and sizes == sorted(sizes)
    assert {d for _, _, d in curve.table.data} == {"train", "test"}
    coefficients = read(run.id, "feature_importances")
    assert sorted(v for _, v in coefficients.table.data) == pytest.approx(sorted(model.coef_))


def test_linear_classifier_importances_and_no_run() -> None:
    X_train, _, y_train, _ = iris()
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    chart = gt_sklearn.plot_feature_importances(model, max_num_features=2, log=False)
    mean_abs = np.abs(model.coef_).mean(axis=0)
    assert [v for _, v in chart.table.data] == pytest.approx(sorted(mean_abs)[::-1][:2])
    with pytest.raises(NoActiveRunError, match="sklearn"):
        gt_sklearn.plot_roc([0, 1], [[0.8, 0.2], [0.3, 0.7]])


@pytest.mark.parametrize(("y_true", "labels", "names"), [
    ([1, 2, 3, 2], None, ["1", "2", "3"]),           # classes 1..3: columns in sorted order
    (["a", "b", "c", "b"], None, ["a", "b", "c"]),
    (["a", "b", "c", "b"], ["a", "b", "c"], ["a", "b", "c"]),
    ([0, 1, 2, 1], ["x", "y", "z"], ["x", "y", "z"]),  # indices into labels
])
def test_roc_classes_follow_the_probability_columns(y_true: list[Any], labels: Any,
                                                    names: list[str]) -> None:
    probas = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]]
    chart = gt_sklearn.plot_roc(y_true, probas, labels, log=False)
    assert sorted({row[0] for row in chart.table.data}) == names
    first_class = [(x, y) for c, x, y in chart.table.data if c == names[0]]
    # the first column's one positive row has the highest first-column score: tpr 1 at fpr 0
    assert (0.0, 1.0) in first_class


def test_wandb_arguments_normalize_subsets_and_positional_is_binary(repo: Path) -> None:
    y_true, y_pred = [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 2]
    chart = gt_sklearn.plot_confusion_matrix(y_true, y_pred, NAMES, normalize=True,
                                             true_labels=["setosa", "versicolor"],
                                             pred_labels=["setosa", "versicolor"], log=False)
    assert chart.table.data == [["setosa", "setosa", pytest.approx(2 / 3)],
                                ["setosa", "versicolor", pytest.approx(1 / 3)],
                                ["versicolor", "setosa", 0.0], ["versicolor", "versicolor", 1.0]]
    assert chart.spec["encoding"]["x"]["sort"] == ["setosa", "versicolor"]
    proportions = gt_sklearn.plot_class_proportions([0, 0, 1], [2, 0], NAMES, log=False)
    assert proportions.table.data == [["setosa", "train", 2], ["versicolor", "train", 1],
                                      ["virginica", "train", 0], ["setosa", "test", 1],
                                      ["versicolor", "test", 0], ["virginica", "test", 1]]
    chart = gt_sklearn.plot_feature_importances(RandomForestClassifier(n_estimators=2).fit(
        [[0, 1], [1, 0]], [0, 1]), ["a", "b"], "Mine", log=False)
    assert chart.spec["title"] == "Mine"

    X_train, X_test, y_train, y_test = iris()
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    with start_run() as run:  # wandb.sklearn's positional order: labels, is_binary, name
        charts = gt_sklearn.plot_classifier(model, X_train, X_test, y_train, y_test,
                                            model.predict(X_test), model.predict_proba(X_test),
                                            NAMES, False, "logreg")
    assert charts["roc"].spec["title"] == "logreg: ROC"
    assert "class_proportions" in gittrack.Api().run(run.id).media_keys()
