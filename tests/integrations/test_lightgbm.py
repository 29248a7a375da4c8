"""``gittrack_callback`` and ``log_summary`` on real LightGBM trainings (scikit-learn's bundled
diabetes data): the history equals LightGBM's ``record_evaluation``, and the summary,
importance chart and model artifact are what the booster says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gittrack
from gittrack.errors import NoActiveRunError, UsageError
from tests.helpers.runs import start_run

lgb = pytest.importorskip("lightgbm")
datasets = pytest.importorskip("sklearn.datasets")

from gittrack.integrations.lightgbm import gittrack_callback, load_model, log_summary  # noqa: E402

PARAMS = {"objective": "regression", "metric": ["l2", "l1"], "num_leaves": 7,
          "verbose": -1, "num_threads": 1, "seed": 0}


def data() -> tuple[Any, Any, Any, Any]:
    X, y = datasets.load_diabetes(return_X_y=True)
    return X[:300], y[:300], X[300:], y[300:]


def train(rounds: int = 8, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    X, y, Xv, yv = data()
    results: dict[str, Any] = {}
    train_set = lgb.Dataset(X, y)
    callbacks = [gittrack_callback(), lgb.record_evaluation(results),
                 *kwargs.pop("callbacks", [])]
    booster = lgb.train(PARAMS, train_set, rounds,
                        valid_sets=[train_set, lgb.Dataset(Xv, yv, reference=train_set)],
                        valid_names=["training", "validation"], callbacks=callbacks, **kwargs)
    return booster, results


def test_history_equals_record_evaluation(repo: Path) -> None:
    with start_run() as run:
        _, results = train()
    view = gittrack.Api().run(run.id)
    history = view.history()
    assert history["iteration"].tolist() == list(range(8))
    for data_name, metrics in results.items():
        for metric, scores in metrics.items():
            assert history[f"{data_name}_{metric}"].tolist() == list(scores)
    assert view.config["num_leaves"] == 7 and view.config["metric"] == ["l2", "l1"]
    assert view.summary["validation_l2"] == {"min": min(results["validation"]["l2"])}


def test_log_summary_records_best_importance_and_a_loadable_model(repo: Path) -> None:
    with start_run() as run:
        booster, results = train(rounds=200, callbacks=[lgb.early_stopping(3, verbose=False)])
        version = log_summary(booster, save_model_checkpoint=True)
    view = gittrack.Api().run(run.id)
    best = booster.best_iteration
    assert 0 < best < 200
    assert view.summary["best_iteration"] == best
    assert view.summary["best_score"]["validation"]["l2"] == results["validation"]["l2"][best - 1]

    ((_, chart),) = list(view.media("Feature Importance"))
    assert chart.table.columns == ["Feature", "Importance"]
    expected = dict(zip(booster.feature_name(), booster.feature_importance(), strict=True))
    assert {f: v for f, v in chart.table.data} == {f: float(v) for f, v in expected.items()}

    assert version is not None and view.logged_artifacts() == [version]
    assert version.name == f"model_{run.id}" and version.type == "model"
    assert set(version.aliases) >= {"latest", "best"}
    loaded = load_model(version.path(f"model_ckpt_{best}.txt"))
    _, _, Xv, _ = data()
    assert np.allclose(loaded.predict(Xv), booster.predict(Xv, num_iteration=best))


def test_sklearn_api_and_log_summary_of_an_estimator(repo: Path) -> None:
    X, y, Xv, yv = data()
    with start_run() as run:
        model = lgb.LGBMRegressor(n_estimators=5, num_leaves=7, verbose=-1, n_jobs=1)
        model.fit(X, y, eval_X=(Xv,), eval_y=(yv,), callbacks=[gittrack_callback(log_params=False)])
        log_summary(model, importance_type="gain")
    view = gittrack.Api().run(run.id)
    assert view.history()["valid_0_l2"].dropna().tolist() == \
        list(model.evals_result_["valid_0"]["l2"])
    assert "num_leaves" not in view.config
    ((_, chart),) = list(view.media("Feature Importance"))
    gains = model.booster_.feature_importance(importance_type="gain")
    assert [v for _, v in chart.table.data] == pytest.approx(sorted(gains, reverse=True))


def test_cv_logs_mean_and_stdv(repo: Path) -> None:
    X, y, _, _ = data()
    with start_run() as run:
        results = lgb.cv(PARAMS, lgb.Dataset(X, y), num_boost_round=3, nfold=3, seed=0,
                         stratified=False,
                         callbacks=[gittrack_callback()])
    history = gittrack.Api().run(run.id).history()
    assert history["valid_l2-mean"].tolist() == pytest.approx(results["valid l2-mean"])
    assert history["valid_l1-stdv"].tolist() == pytest.approx(results["valid l1-stdv"])


def test_errors_name_what_is_missing(repo: Path) -> None:
    with pytest.raises(NoActiveRunError, match="gittrack_callback"):
        train(rounds=1)
    with start_run(), pytest.raises(UsageError, match=r"lightgbm\.Booster"):
        log_summary(object())


def test_wandb_name_is_the_same_callback(repo: Path) -> None:
    from gittrack.integrations.lightgbm import wandb_callback

    X, y, _, _ = data()
    train_set = lgb.Dataset(X, y)
    with start_run() as run:
        lgb.train(PARAMS, train_set, 2, valid_sets=[train_set], callbacks=[wandb_callback()])
    assert gittrack.Api().run(run.id).history()["training_l1"].notna().all()
