"""``GittrackCallback`` on real XGBoost trainings (scikit-learn's bundled breast cancer data):
the history equals XGBoost's own ``evals_result``, and the importance chart and model
artifact are what the booster says."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gittrack
from gittrack.errors import NoActiveRunError
from tests.helpers.runs import start_run

xgb = pytest.importorskip("xgboost")
datasets = pytest.importorskip("sklearn.datasets")

from gittrack.integrations.xgboost import GittrackCallback, load_model  # noqa: E402

PARAMS = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"], "max_depth": 3,
          "nthread": 1, "seed": 0}


def data() -> tuple[Any, Any, Any, Any]:
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return X[:400], y[:400], X[400:], y[400:]


def train(callback: GittrackCallback, rounds: int = 6, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    X, y, Xv, yv = data()
    results: dict[str, Any] = {}
    booster = xgb.train(PARAMS, xgb.DMatrix(X, y), rounds, verbose_eval=False,
                        evals=[(xgb.DMatrix(X, y), "train"), (xgb.DMatrix(Xv, yv), "validation")],
                        evals_result=results, callbacks=[callback], **kwargs)
    return booster, results


def test_history_equals_evals_result_and_model_is_an_artifact(repo: Path) -> None:
    with start_run() as run:
        callback = GittrackCallback(log_model=True)
        booster, results = train(callback)
    view = gittrack.Api().run(run.id)
    history = view.history()
    rows = history.dropna(subset=["train-logloss"])
    assert rows["_step"].tolist() == list(range(6))
    assert rows["epoch"].tolist() == list(range(6))
    for data_name, metrics in results.items():
        for metric, scores in metrics.items():
            assert rows[f"{data_name}-{metric}"].tolist() == scores
    # define_metric: the best of each metric; the best score of the watched (last) metric
    assert view.summary["validation-logloss"] == {"min": min(results["validation"]["logloss"])}
    assert view.summary["train-auc"] == {"max": max(results["train"]["auc"])}
    auc = results["validation"]["auc"]
    assert view.summary["best_score"] == max(auc)
    assert view.summary["best_iteration"] == auc.index(max(auc))
    assert view.config["learner"]["learner_train_param"]["objective"] == "binary:logistic"

    ((_, chart),) = list(view.media("Feature Importance"))
    assert chart.table.columns == ["Feature", "Importance"]
    gain = booster.get_score(importance_type="gain")
    assert {f: pytest.approx(v) for f, v in chart.table.data} == gain
    assert [v for _, v in chart.table.data] == sorted(gain.values(), reverse=True)
    assert chart.spec["mark"]["type"] == "bar"

    (version,) = view.logged_artifacts()
    assert version.type == "model" and version.name == f"{run.id}_model.json"
    assert version == callback.model_version
    folder = version.download()
    loaded = load_model(folder / f"{run.id}_model.json")
    _, _, Xv, _ = data()
    assert np.array_equal(loaded.predict(xgb.DMatrix(Xv)), booster.predict(xgb.DMatrix(Xv)))


def test_early_stopping_best_iteration_and_ubj_model(repo: Path) -> None:
    with start_run() as run:
        callback = GittrackCallback(log_model=True, log_feature_importance=False,
                                    importance_type="weight", model_format="ubj")
        booster, _ = train(callback, rounds=200, early_stopping_rounds=3)
    view = gittrack.Api().run(run.id)
    assert view.summary["best_iteration"] == int(booster.attr("best_iteration"))
    assert view.summary["best_score"] == float(booster.attr("best_score"))
    assert "Feature Importance" not in view.media_keys()
    (version,) = view.logged_artifacts()
    path = version.path(f"{run.id}_model.ubj")
    assert path.read_bytes()[:1] == b"{"  # UBJSON opens an object with "{" too
    assert load_model(path).num_boosted_rounds() == booster.num_boosted_rounds()


def test_sklearn_api_keys_per_eval_set_and_clone(repo: Path) -> None:
    from sklearn.base import clone

    X, y, Xv, yv = data()
    with start_run() as run:
        model = xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1,
                                  callbacks=[GittrackCallback(define_metric=False)])
        model.fit(X, y, eval_set=[(X, y), (Xv, yv)], verbose=False)
        twin = clone(model)  # deep-copies the callback: it records into the same run
        twin.fit(X, y, eval_set=[(Xv, yv)], verbose=False)
    view = gittrack.Api().run(run.id)
    history = view.history()
    first = model.evals_result()
    assert history["validation_0-logloss"].dropna().tolist()[:5] == \
        first["validation_0"]["logloss"]
    assert history["validation_1-logloss"].dropna().tolist() == first["validation_1"]["logloss"]
    assert history["validation_0-logloss"].dropna().tolist()[5:] == \
        twin.evals_result()["validation_0"]["logloss"]
    assert isinstance(view.summary["validation_1-logloss"], float)  # no define_metric: last


def test_cv_logs_mean_and_std(repo: Path) -> None:
    X, y, _, _ = data()
    with start_run() as run:
        results = xgb.cv(PARAMS, xgb.DMatrix(X, y), num_boost_round=3, nfold=3, seed=0,
                         callbacks=[GittrackCallback(log_feature_importance=False)])
    history = gittrack.Api().run(run.id).history()
    assert history["test-auc-mean"].tolist() == pytest.approx(results["test-auc-mean"].tolist())
    assert history["train-logloss-std"].tolist() == \
        pytest.approx(results["train-logloss-std"].tolist())


def test_training_without_a_run_names_the_callback(repo: Path) -> None:
    with pytest.raises(NoActiveRunError, match="GittrackCallback"):
        train(GittrackCallback())


def test_a_finished_run_hands_over_to_the_next(repo: Path) -> None:
    callback = GittrackCallback(log_feature_importance=False)
    with start_run():
        train(callback, rounds=2)
    with start_run() as second:
        train(callback, rounds=3)
        assert copy.deepcopy(callback).run is second
    assert len(gittrack.Api().run(second.id).history().dropna(subset=["epoch"])) == 3


def test_linear_booster_importance_is_its_weights(repo: Path) -> None:
    X, y, _, _ = data()
    with start_run() as run:
        booster = xgb.train({"booster": "gblinear", "objective": "reg:squarederror",
                             "nthread": 1}, xgb.DMatrix(X[:, :4], y), 3,
                            callbacks=[GittrackCallback(importance_type="gain")])
    ((_, chart),) = list(gittrack.Api().run(run.id).media("Feature Importance"))
    assert {f: pytest.approx(v) for f, v in chart.table.data} == \
        booster.get_score(importance_type="weight")


WANDB_STYLE_SCRIPT = """
import gittrack as wandb
import xgboost as xgb
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from gittrack.integrations.xgboost import WandbCallback

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
wandb.init(project="xgb-regression", config={"max_depth": 3})
model = xgb.XGBRegressor(n_estimators=8, max_depth=wandb.config["max_depth"], n_jobs=1,
                         callbacks=[WandbCallback(log_model=True)])
model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
wandb.finish()
print(wandb.Api().runs()[0].id, model.evals_result()["validation_0"]["rmse"])
"""


def test_a_script_written_for_wandb_runs_with_the_import_changed(repo: Path) -> None:
    from tests.helpers.processes import run_python

    out = run_python(WANDB_STYLE_SCRIPT, repo).stdout.split(" ", 1)
    run_id, rmse = out[0], [float(v) for v in out[1].strip(" []\n").split(",")]
    view = gittrack.Api().run(run_id)
    assert view.history()["validation_0-rmse"].dropna().tolist() == rmse
    assert view.config["max_depth"] == 3 and view.summary["validation_0-rmse"] == {"min": min(rmse)}
    (version,) = view.logged_artifacts()
    assert load_model(version.path(f"{run_id}_model.json")).num_boosted_rounds() == 8
