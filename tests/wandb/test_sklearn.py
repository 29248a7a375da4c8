"""``wandb.sklearn`` and ``wandb.integration.<xgboost|lightgbm>`` through
``import gittrack.wandb as wandb``: a script written for W&B's scikit-learn charts runs as a
real program with only its import changed, and records the charts."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack
from tests.helpers.processes import run_python

pytest.importorskip("sklearn")

SCRIPT = """
import gittrack.wandb as wandb
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
wandb.init(project="sklearn-demo", config={"n_estimators": 5})
clf = RandomForestClassifier(n_estimators=wandb.config.n_estimators, random_state=0)
clf.fit(X_train, y_train)
y_pred, y_probas = clf.predict(X_test), clf.predict_proba(X_test)
labels = ["setosa", "versicolor", "virginica"]
wandb.sklearn.plot_classifier(clf, X_train, X_test, y_train, y_test, y_pred, y_probas,
                              labels, model_name="RandomForest", feature_names=None)
wandb.sklearn.plot_confusion_matrix(y_test, y_pred, labels)
print(wandb.run.id, int((y_pred == y_test).sum()), len(y_test))
wandb.finish()
"""


def test_a_wandb_sklearn_script_records_its_charts(repo: Path) -> None:
    run_id, right, total = run_python(SCRIPT, repo).stdout.split()
    view = gittrack.Api().run(run_id)
    assert {"confusion_matrix", "roc", "precision_recall", "class_proportions",
            "summary_metrics", "feature_importances"} <= set(view.media_keys())
    matrices = [chart for _, chart in view.media("confusion_matrix")]
    assert len(matrices) == 2
    for chart in matrices:
        assert sum(n for _, _, n in chart.table.data) == int(total)
        assert sum(n for a, p, n in chart.table.data if a == p) == int(right)
    assert view.summary["accuracy"] == pytest.approx(int(right) / int(total))


def test_wandb_integration_modules_are_gittracks() -> None:
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    import gittrack.wandb as wandb
    from gittrack.integrations import lightgbm, xgboost
    from gittrack.wandb.integration.lightgbm import log_summary, wandb_callback
    from gittrack.wandb.integration.xgboost import WandbCallback

    assert WandbCallback is xgboost.GittrackCallback
    assert wandb_callback is lightgbm.gittrack_callback and log_summary is lightgbm.log_summary
    assert wandb.sklearn.plot_roc is not None
