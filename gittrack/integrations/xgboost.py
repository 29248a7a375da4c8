"""XGBoost: a training callback that records each iteration's evaluation metrics, the best
score and iteration, the feature importance and (optionally) the model, into the active run,
as ``wandb.integration.xgboost.WandbCallback`` does::

    from gittrack.integrations.xgboost import GittrackCallback

    with gittrack.init(project="xgb"):
        booster = xgb.train(params, dtrain, num_boost_round=50,
                            evals=[(dtrain, "train"), (dvalid, "validation")],
                            callbacks=[GittrackCallback(log_model=True)])

    model = xgb.XGBClassifier(n_estimators=50, callbacks=[GittrackCallback()])
    model.fit(X, y, eval_set=[(X_valid, y_valid)])          # keys "validation_0-logloss"

Needs ``pip install 'gittrack[xgboost]'`` (docs/integrations/xgboost.md).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.api.session import current_run
from gittrack.errors import UsageError
from gittrack.integrations import _models
from gittrack.integrations._common import require

if TYPE_CHECKING:
    import xgboost as xgb
    from xgboost.callback import TrainingCallback

    from gittrack.runs.live import Run
else:  # a UsageError naming the extra when XGBoost is missing
    xgb = require("xgboost", "xgboost")
    TrainingCallback = xgb.callback.TrainingCallback

__all__ = ["GittrackCallback", "WandbCallback"]

_IMPORTANCE_TYPES = ("weight", "gain", "cover", "total_gain", "total_cover")
_MODEL_FORMATS = ("json", "ubj")


class GittrackCallback(TrainingCallback):
    """Record an XGBoost training in the active run (``xgb.train(..., callbacks=[...])`` or
    the scikit-learn API's ``callbacks=``).

    - config: the booster's configuration (``Booster.save_config()``), as W&B records it;
    - history, one step per iteration: ``<eval set>-<metric>`` of every eval set
      (``train-rmse``, ``validation_0-logloss``; ``-mean``/``-std`` under ``xgb.cv``) and
      ``epoch`` (the iteration number);
    - summary: with ``define_metric``, the best value of each metric of known direction
      (min of losses and errors, max of ``auc``, ``ndcg``...); ``best_score`` and
      ``best_iteration`` (early stopping's, else those of the last eval set's last metric);
    - ``log_feature_importance``: a ``Feature``/``Importance`` table as a bar chart under
      ``"Feature Importance"`` (``importance_type``: weight, gain, cover, total_gain,
      total_cover);
    - ``log_model``: the model saved as ``<run id>_model.json`` (``model_format="ubj"``:
      UBJSON) in a ``model`` artifact of that name, alias ``latest``.
    """

    def __init__(self, log_model: bool = False, log_feature_importance: bool = True,
                 importance_type: str = "gain", define_metric: bool = True, *,
                 model_format: str = "json") -> None:
        super().__init__()
        if importance_type not in _IMPORTANCE_TYPES:
            raise UsageError(f"importance_type must be one of {', '.join(_IMPORTANCE_TYPES)}, "
                             f"got {importance_type!r}")
        if model_format not in _MODEL_FORMATS:
            raise UsageError(f"model_format must be 'json' or 'ubj', got {model_format!r}")
        self.log_model = log_model
        self.log_feature_importance = log_feature_importance
        self.importance_type = importance_type
        self.define_metric = define_metric
        self.model_format = model_format
        self._run: Run | None = current_run()  # the run active now, or the one at training
        self._defined: set[str] = set()
        self._evals_log: Mapping[str, Mapping[str, Sequence[Any]]] = {}
        self.model_version: Any = None
        """The artifact version of the model logged at the end (``log_model``)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> GittrackCallback:
        # scikit-learn's clone() deep-copies an estimator's parameters (GridSearchCV,
        # cross_val_score): the copy records into the same run, never a copy of the run.
        twin = copy.copy(self)
        twin._defined, twin._evals_log, twin.model_version = set(), {}, None
        return twin

    def __getstate__(self) -> dict[str, Any]:
        # pickled to another process (joblib): the run stays here; the copy finds its own
        return {**self.__dict__, "_run": None, "model_version": None}

    @property
    def run(self) -> Run:
        """The run this callback records into."""
        self._run = _models.recording_run(self._run, "GittrackCallback (XGBoost)")
        return self._run

    def before_training(self, model: Any) -> Any:
        run = self.run
        self._evals_log = {}
        self._defined.clear()
        config = _booster(model).save_config()
        run.config.update(json.loads(config), allow_val_change=True)
        return model

    def after_iteration(self, model: Any, epoch: int,
                        evals_log: Mapping[str, Mapping[str, Sequence[Any]]]) -> bool:
        run = self.run
        self._evals_log = evals_log
        values: dict[str, Any] = {}
        for data, metrics in evals_log.items():
            for metric, scores in metrics.items():
                values.update(self._values(run, f"{data}-{metric}", metric, scores[-1]))
        run.log({**values, "epoch": epoch})
        return False  # never stops the training

    def after_training(self, model: Any) -> Any:
        run = self.run
        if not _models.records(run):
            return model
        booster = _booster(model)
        if self.log_model:
            self.model_version = self._log_model(run, booster)
        if self.log_feature_importance:
            self._log_feature_importance(run, booster)
        best = _best(booster, self._evals_log)
        if best is not None:
            run.summary.update({"best_score": best[0], "best_iteration": best[1]})
        return model

    def _values(self, run: Run, key: str, metric: str, score: Any) -> dict[str, float]:
        if isinstance(score, tuple | list):  # xgb.cv: (mean, std)
            found = {f"{key}-mean": float(score[0]), f"{key}-std": float(score[1])}
        else:
            found = {key: float(score)}
        if self.define_metric and key not in self._defined:
            self._defined.add(key)
            _models.define_best(run, next(iter(found)), metric)
        return found

    def _log_model(self, run: Run, booster: Any) -> Any:
        name = f"{run.id}_model.{self.model_format}"
        return _models.log_model_file(
            run, lambda path: booster.save_model(str(path)), name, name,
            metadata={"framework": "xgboost", "xgboost": xgb.__version__,
                      "format": self.model_format,
                      "num_boosted_rounds": int(booster.num_boosted_rounds())})

    def _log_feature_importance(self, run: Run, booster: Any) -> None:
        # a linear booster has only "weight" (its coefficients; one per class when several)
        kind = "weight" if _is_linear(booster) else self.importance_type
        scores = booster.get_score(importance_type=kind)
        if not scores:  # no split at all: nothing to draw
            return
        values = [sum(abs(v) for v in s) / len(s) if isinstance(s, list) else s
                  for s in scores.values()]
        chart = _models.importance_chart(list(scores), values)
        run.log({_models.IMPORTANCE_KEY: chart})


def _booster(model: Any) -> Any:
    """The ``xgboost.Booster`` of a callback's model (``xgb.cv`` passes a fold pack)."""
    if isinstance(model, xgb.Booster):
        return model
    folds = getattr(model, "cvfolds", None)
    if folds:
        return folds[0].bst
    raise UsageError(f"GittrackCallback expects an xgboost.Booster, got {type(model).__name__}")


def _is_linear(booster: Any) -> bool:
    config = json.loads(booster.save_config())
    return bool(config["learner"]["gradient_booster"]["name"] == "gblinear")


def _best(booster: Any, evals_log: Mapping[str, Mapping[str, Sequence[Any]]]
          ) -> tuple[float, int] | None:
    """Early stopping's best score and iteration, else the best of the last eval set's last
    metric (the one early stopping watches), when its direction is known."""
    score, iteration = booster.attr("best_score"), booster.attr("best_iteration")
    if score is not None and iteration is not None:
        return float(score), int(iteration)
    if not evals_log:
        return None
    metrics = list(evals_log.values())[-1]
    if not metrics:
        return None
    metric, scores = list(metrics.items())[-1]
    direction = _models.goal(metric)
    values = [float(s[0]) if isinstance(s, tuple | list) else float(s) for s in scores]
    if direction is None or not values:
        return None
    pick = min if direction == "minimize" else max
    best = pick(range(len(values)), key=values.__getitem__)
    return values[best], best


def load_model(path: str | Path) -> Any:
    """An ``xgboost.Booster`` loaded from a model file this callback logged."""
    booster = xgb.Booster()
    booster.load_model(str(path))
    return booster


WandbCallback = GittrackCallback
"""W&B's name (``wandb.integration.xgboost.WandbCallback``), for scripts moving over."""
