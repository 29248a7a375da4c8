"""Optuna: record each trial of a study as a gittrack run, all in one group (the study's
name), as optuna-integration's ``WeightsAndBiasesCallback`` does for W&B::

    from gittrack.integrations.optuna import GittrackCallback

    callback = GittrackCallback(metric_name="accuracy",
                                gittrack_kwargs={"project": "search"})

    @callback.track_in_gittrack()          # optional: gittrack.log() inside the objective
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        ...
        gittrack.log({"loss": loss})       # into this trial's run
        return accuracy

    study.optimize(objective, n_trials=20, callbacks=[callback])

Needs ``pip install 'gittrack[optuna]'`` (docs/integrations/optuna.md).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from gittrack.api.session import current_run, init
from gittrack.errors import UsageError
from gittrack.integrations._common import init_arguments, require
from gittrack.settings import Settings

if TYPE_CHECKING:
    import optuna
else:  # a UsageError naming the extra when Optuna is missing
    optuna = require("optuna", "optuna")

if TYPE_CHECKING:
    from gittrack.runs.live import Run

__all__ = ["GittrackCallback", "WeightsAndBiasesCallback"]

_T = TypeVar("_T")


class GittrackCallback:
    """An Optuna callback (``study.optimize(objective, callbacks=[callback])``).

    ``as_multirun=True`` (default): each finished trial is a run of group
    ``study.study_name`` (unless ``gittrack_kwargs`` names another group), named
    ``trial-<number>``, with

    - config: the trial's parameters (and ``gittrack_kwargs["config"]``, if given);
    - summary: its value under ``metric_name`` (a multi-objective study: one name per
      objective, as a list, or ``<metric_name>_<i>``), ``trial_number``, ``trial_state``
      (``COMPLETE``, ``PRUNED`` or ``FAIL``) and, for a failed trial, ``trial_error``;
    - history: the value(s), after the values the trial reported (``trial.report``) as
      ``intermediate_value`` at their steps;
    - state: ``failed`` for a failed trial, else ``finished``.

    ``as_multirun=False``: one run for the whole study (the active run, or one named after
    the study), one history row per trial: ``trial_number``, ``trial_state``, the
    parameters and the value(s).

    ``gittrack_kwargs`` are passed to ``gittrack.init`` (``project``, ``tags``, ``notes``,
    ``config``, ``settings``, ``repo``...); W&B-only keywords (``entity``...) are ignored
    with a warning.
    """

    def __init__(self, metric_name: str | Sequence[str] = "value", as_multirun: bool = True,
                 gittrack_kwargs: Mapping[str, Any] | None = None) -> None:
        if isinstance(metric_name, str):
            names: str | tuple[str, ...] = metric_name
        elif isinstance(metric_name, Sequence) and metric_name and \
                all(isinstance(n, str) for n in metric_name):
            names = tuple(metric_name)
        else:
            raise UsageError(f"metric_name must be a string or a list of strings, got "
                             f"{metric_name!r}")
        if gittrack_kwargs is not None and not isinstance(gittrack_kwargs, Mapping):
            raise UsageError(f"gittrack_kwargs must be a dict of gittrack.init() arguments, "
                             f"got {type(gittrack_kwargs).__name__}")
        self._metric_name = names
        self._as_multirun = as_multirun
        self._kwargs = init_arguments(gittrack_kwargs or {}, "GittrackCallback (Optuna)")
        self._lock = threading.Lock()
        self._runs: dict[int, Run] = {}  # trial number -> the run its objective records into
        self._ended: set[int] = set()  # trials whose run the decorator finished (they raised)
        self._study_run: Run | None = None  # as_multirun=False

    # -- Optuna's callback ----------------------------------------------------------------
    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        metrics = self._metrics(trial)
        if not self._as_multirun:
            self._log_trial(self._one_run(study), trial, metrics)
            return
        with self._lock:
            if trial.number in self._ended:  # recorded and finished when the objective raised
                self._ended.discard(trial.number)
                return
            run = self._runs.pop(trial.number, None)
        if run is None:  # no decorator: the run is made now, from what the trial holds
            run = self._start(study, trial.number, trial.params)
            for step, value in sorted(trial.intermediate_values.items()):
                run.log({"intermediate_value": value}, step=step)
        failed = trial.state == optuna.trial.TrialState.FAIL
        try:
            run.config.update(trial.params, allow_val_change=True)
            if metrics:
                run.log(metrics)
            run.summary.update({**metrics, "trial_number": trial.number,
                                "trial_state": trial.state.name})
        finally:
            run.finish(exit_code=1 if failed else 0)

    # -- the decorator --------------------------------------------------------------------
    def track_in_gittrack(self) -> Callable[[Callable[[optuna.Trial], _T]],
                                            Callable[[optuna.Trial], _T]]:
        """Decorate the objective so that it runs inside its trial's run: ``gittrack.log``
        (and ``gittrack.run``, ``gittrack.config``...) reach that run while it runs. A trial
        whose objective raises is recorded at once (state ``failed``, ``trial_state``
        ``FAIL``, ``trial_error``), whether or not ``study.optimize(catch=...)`` goes on."""

        def decorator(func: Callable[[optuna.Trial], _T]) -> Callable[[optuna.Trial], _T]:
            @functools.wraps(func)
            def objective(trial: optuna.Trial) -> _T:
                if not self._as_multirun:
                    self._one_run(trial.study)
                    return func(trial)
                run = self._start(trial.study, trial.number, {})
                with self._lock:
                    self._runs[trial.number] = run
                try:
                    return func(trial)
                except optuna.TrialPruned:
                    raise  # Optuna then calls the callback with the PRUNED trial
                except BaseException as exc:
                    self._fail(run, trial, exc)
                    raise

            return objective

        return decorator

    track_in_wandb = track_in_gittrack  # optuna-integration's name, for scripts moving over

    def run_of(self, trial: optuna.Trial | int) -> Run | None:
        """The run a decorated objective's trial records into, while it runs: with
        ``study.optimize(n_jobs=2)`` several trial runs are open at once and
        ``gittrack.log`` reaches the newest, so log with ``callback.run_of(trial).log``."""
        number = trial if isinstance(trial, int) else trial.number
        with self._lock:
            return self._runs.get(number)

    # -- runs -----------------------------------------------------------------------------
    def _start(self, study: optuna.Study, number: int, params: Mapping[str, Any]) -> Run:
        kwargs = dict(self._kwargs)
        kwargs.setdefault("group", study.study_name)
        kwargs.setdefault("name", f"trial-{number}")
        kwargs["config"] = {**dict(kwargs.get("config") or {}), **params}
        # several trials may be open at once, and a run the user started must stay open
        kwargs["settings"] = dataclasses.replace(Settings.from_any(kwargs.get("settings")),
                                                 reinit="create_new")
        return init(**kwargs)

    def _fail(self, run: Run, trial: optuna.Trial, exc: BaseException) -> None:
        with self._lock:
            self._runs.pop(trial.number, None)
            self._ended.add(trial.number)
        try:
            run.config.update(trial.params, allow_val_change=True)
            run.summary.update({"trial_number": trial.number, "trial_state": "FAIL",
                                "trial_error": f"{type(exc).__name__}: {exc}"[:1000]})
        finally:
            run.finish(exit_code=1)

    def _one_run(self, study: optuna.Study) -> Run:
        with self._lock:
            run = self._study_run
            if run is None or run._finished:
                run = current_run()
                if run is None:
                    kwargs = {"name": study.study_name, "group": study.study_name,
                              **self._kwargs}
                    run = init(**kwargs)
                run.config.update({"direction": [d.name for d in study.directions]},
                                  allow_val_change=True)
                self._study_run = run
            return run

    def _log_trial(self, run: Run, trial: optuna.trial.FrozenTrial,
                   metrics: dict[str, float]) -> None:
        run.log({"trial_number": trial.number, "trial_state": trial.state.name,
                 **_loggable(trial.params), **metrics})

    def _metrics(self, trial: optuna.trial.FrozenTrial) -> dict[str, float]:
        values = trial.values
        if values is None:  # pruned or failed: no value
            return {}
        names = self._metric_name
        if isinstance(names, str):
            names = (names,) if len(values) == 1 else \
                tuple(f"{names}_{i}" for i in range(len(values)))
        if len(names) != len(values):
            raise UsageError(f"metric_name names {len(names)} metrics ({', '.join(names)}) "
                             f"but trial {trial.number} has {len(values)} values")
        return {name: float(v) for name, v in zip(names, values, strict=True)}


def _loggable(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as history values (a categorical ``None`` is left out: no cell)."""
    return {k: v for k, v in params.items() if v is not None}


class WeightsAndBiasesCallback(GittrackCallback):
    """optuna-integration's ``WeightsAndBiasesCallback`` with its signature and defaults
    (``wandb_kwargs`` for ``gittrack.init``, one run for the study unless
    ``as_multirun=True``), for a script that changes only its import."""

    def __init__(self, metric_name: str | Sequence[str] = "value",
                 wandb_kwargs: Mapping[str, Any] | None = None,
                 as_multirun: bool = False) -> None:
        super().__init__(metric_name, as_multirun=as_multirun, gittrack_kwargs=wandb_kwargs)
