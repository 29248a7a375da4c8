"""LightGBM: a training callback that records each iteration's evaluation metrics into the
active run, and ``log_summary`` for the best iteration and score, the feature importance and
the model, as ``wandb.integration.lightgbm`` (``wandb_callback``, ``log_summary``) does::

    from gittrack.integrations.lightgbm import gittrack_callback, log_summary

    with gittrack.init(project="lgbm"):
        booster = lgb.train(params, train_set, num_boost_round=50,
                            valid_sets=[valid_set], valid_names=["validation"],
                            callbacks=[gittrack_callback()])     # "validation_l2" per step
        log_summary(booster, save_model_checkpoint=True)

Needs ``pip install 'gittrack[lightgbm]'`` (docs/integrations/lightgbm.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gittrack.api.session import active_run, current_run
from gittrack.errors import UsageError
from gittrack.integrations import _models
from gittrack.integrations._common import plain_config, require

if TYPE_CHECKING:
    import lightgbm as lgb
else:  # a UsageError naming the extra when LightGBM is missing
    lgb = require("lightgbm", "lightgbm")

if TYPE_CHECKING:
    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.runs.live import Run

__all__ = ["gittrack_callback", "log_summary", "wandb_callback"]


class _Callback:
    """The callable ``gittrack_callback()`` returns (LightGBM calls it after each
    iteration, as its own ``record_evaluation``)."""

    order = 20
    before_iteration = False

    def __init__(self, log_params: bool, define_metric: bool) -> None:
        self.log_params = log_params
        self.define_metric = define_metric
        self._run: Run | None = current_run()

    def __call__(self, env: Any) -> None:
        run = self._run = _models.recording_run(self._run, "gittrack_callback (LightGBM)")
        if env.iteration == env.begin_iteration:
            self._start(run, env)
        values: dict[str, Any] = {}
        for item in env.evaluation_result_list:
            values.update(_values(item))
        run.log({**values, "iteration": env.iteration})

    def _start(self, run: Run, env: Any) -> None:
        if self.log_params:
            run.config.update(plain_config(env.params), allow_val_change=True)
        if self.define_metric:
            for item in env.evaluation_result_list:
                key = next(iter(_values(item)))
                _models.define_best(run, key, _metric(item))

    def __getstate__(self) -> dict[str, Any]:  # pickled to another process: the run stays
        return {**self.__dict__, "_run": None}


def gittrack_callback(log_params: bool = True, define_metric: bool = True) -> Any:
    """A LightGBM callback (``lgb.train(..., callbacks=[gittrack_callback()])``, ``lgb.cv``,
    or the scikit-learn API's ``fit(..., callbacks=[...])``) recording into the active run:

    - config: the training parameters (``log_params``);
    - history, one step per iteration: ``<data_name>_<metric>`` of every validation set
      (``training_l2``, ``valid_0_binary_logloss``; ``-mean``/``-stdv`` under ``lgb.cv``) and
      ``iteration``;
    - summary: with ``define_metric``, the best value of each metric of known direction.
    """
    return _Callback(log_params, define_metric)


def log_summary(model: Any, feature_importance: bool = True,
                save_model_checkpoint: bool = False, *,
                importance_type: str = "split") -> ArtifactVersion | None:
    """After training: ``best_iteration`` and ``best_score`` (``{data: {metric: value}}``)
    in the summary; the feature importance (``importance_type`` ``"split"`` or ``"gain"``)
    as a ``Feature``/``Importance`` table drawn as a bar chart under ``"Feature Importance"``;
    with ``save_model_checkpoint``, the model at its best iteration as artifact
    ``model_<run id>`` (type ``model``, aliases ``latest`` and ``best``), which is returned.
    ``model``: a ``lightgbm.Booster`` or a fitted scikit-learn estimator (``LGBMClassifier``)."""
    run = active_run("log_summary (LightGBM)")
    booster = _booster(model)
    if not _models.records(run):
        return None
    if importance_type not in ("split", "gain"):
        raise UsageError(f"importance_type must be 'split' or 'gain', got {importance_type!r}")
    run.summary.update({"best_iteration": int(booster.best_iteration),
                        "best_score": plain_config(booster.best_score)})
    if feature_importance:
        chart = _models.importance_chart(
            booster.feature_name(), booster.feature_importance(importance_type=importance_type))
        run.log({_models.IMPORTANCE_KEY: chart})
    if not save_model_checkpoint:
        return None
    iteration = int(booster.best_iteration)
    return _models.log_model_file(
        run, lambda path: booster.save_model(str(path), num_iteration=iteration),
        f"model_{run.id}", f"model_ckpt_{iteration}.txt", aliases=["best"],
        metadata={"framework": "lightgbm", "lightgbm": lgb.__version__,
                  "best_iteration": iteration})


def load_model(path: Any) -> Any:
    """A ``lightgbm.Booster`` from a model file ``log_summary`` logged."""
    return lgb.Booster(model_file=str(path))


def _booster(model: Any) -> Any:
    if isinstance(model, lgb.Booster):
        return model
    booster = getattr(model, "booster_", None)  # a fitted LGBMModel
    if isinstance(booster, lgb.Booster):
        return booster
    raise UsageError(f"log_summary expects a lightgbm.Booster or a fitted LightGBM estimator, "
                     f"got {type(model).__name__}")


def _values(item: tuple[Any, ...]) -> dict[str, float]:
    """One ``evaluation_result_list`` entry as history values: ``(data, metric, value,
    higher_better)``, or under ``lgb.cv`` ``(data, metric, mean, higher_better, stdv)``
    (LightGBM before 4.6: ``("cv_agg", "data metric", mean, higher_better, stdv)``)."""
    data, metric = _names(item)
    if len(item) == 4:
        return {f"{data}_{metric}": float(item[2])}
    return {f"{data}_{metric}-mean": float(item[2]), f"{data}_{metric}-stdv": float(item[4])}


def _names(item: tuple[Any, ...]) -> tuple[str, str]:
    if len(item) > 4 and " " in str(item[1]):
        data, metric = str(item[1]).split(maxsplit=1)
        return data, metric
    return str(item[0]), str(item[1])


def _metric(item: tuple[Any, ...]) -> str:
    return _names(item)[1]



wandb_callback = gittrack_callback
"""W&B's name (``wandb.integration.lightgbm.wandb_callback``), for scripts moving over."""
