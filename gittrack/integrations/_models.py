"""What a trained model leaves in a run, shared by the tree-boosting integrations: the run
to record into, its feature importance as a table and bar chart, the saved model file as a
``model`` artifact, and which way a metric improves."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from gittrack.api.session import active_run
from gittrack.integrations._common import log_model_files

if TYPE_CHECKING:
    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.formats.media.chart import Chart
    from gittrack.runs.live import Run

IMPORTANCE_KEY: Final = "Feature Importance"
"""The key the importance chart is logged under (W&B's)."""

# Metrics whose best value is the lowest / the highest (XGBoost's and LightGBM's names, as
# W&B's integrations list them; a name's ``@`` suffix, ``error@0.7``, is ignored).
MINIMIZE: Final = frozenset({
    "rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "merror", "mlogloss",
    "l1", "l2", "huber", "fair", "poisson", "gamma", "gamma-deviance", "tweedie",
    "binary_logloss", "binary_error", "multi_logloss", "multi_error", "cross_entropy",
    "quantile", "regression", "regression_l1", "mean_absolute_error", "mean_squared_error",
    "root_mean_squared_error", "cox-nloglik", "aft-nloglik", "poisson-nloglik",
    "gamma-nloglik", "tweedie-nloglik",
})
MAXIMIZE: Final = frozenset({"auc", "aucpr", "ndcg", "map", "average_precision", "pre"})


def recording_run(run: Run | None, what: str) -> Run:
    """``run`` while it is still recording, else the current run of the process
    (``NoActiveRunError`` naming ``what`` when there is none)."""
    if run is not None and not run._finished:
        return run
    return active_run(what)


def records(run: Run) -> bool:
    """Whether ``run`` records anything: a disabled run (``mode="disabled"``, a stand-in
    whose methods do nothing) is spared the work of saving models and drawing charts."""
    return not getattr(run, "disabled", False)


def goal(metric: str) -> str | None:
    """``"minimize"``, ``"maximize"`` or ``None`` (unknown) for a metric name."""
    base = metric.lower().split("@", 1)[0]
    if "loss" in base or base in MINIMIZE:
        return "minimize"
    if base in MAXIMIZE:
        return "maximize"
    return None


def define_best(run: Run, key: str, metric: str) -> None:
    """Let the summary keep the best value of ``key`` (its min or max), as W&B's
    integrations do with ``define_metric``; a metric of unknown direction keeps its last."""
    direction = goal(metric)
    if direction is not None:
        run.define_metric(key, summary="min" if direction == "minimize" else "max",
                          goal=direction)


def importance_chart(names: Sequence[str], values: Iterable[Any],
                     title: str = "Feature Importance") -> Chart:
    """A ``Feature``/``Importance`` table drawn as a bar chart, most important first."""
    from gittrack import plot
    from gittrack.formats.media.table import Table

    rows = sorted(((str(n), float(v)) for n, v in zip(names, values, strict=True)),
                  key=lambda row: -row[1])
    table = Table(columns=["Feature", "Importance"], data=[list(r) for r in rows])
    return plot.bar(table, "Feature", "Importance", title=title)


def log_model_file(run: Run, save: Callable[[Path], None], name: str, filename: str,
                   aliases: Sequence[str] = (), metadata: dict[str, Any] | None = None,
                   ) -> ArtifactVersion:
    """Save a model with ``save(path)`` into a temporary folder and log that file as artifact
    ``name`` of type ``model``; the temporary copy is removed once its bytes are stored."""
    with tempfile.TemporaryDirectory(prefix="gittrack-model-") as folder:
        path = Path(folder) / filename
        save(path)
        return log_model_files(run, name, [(str(path), filename)], aliases, metadata)
