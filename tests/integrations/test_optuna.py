"""``GittrackCallback`` on real Optuna studies: one run per trial in the study's group, the
trial's parameters as config, its value and state in the summary, also for a trial that
raised or was pruned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import gittrack
from gittrack.errors import GittrackWarning
from gittrack.runs.info import RunState
from tests.helpers.runs import FAST, start_run

optuna = pytest.importorskip("optuna")

from gittrack.integrations.optuna import GittrackCallback  # noqa: E402

KWARGS = {"project": "search", "settings": FAST}


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)


def study(name: str = "tuning", **kwargs: Any) -> Any:
    return optuna.create_study(study_name=name, sampler=optuna.samplers.RandomSampler(seed=0),
                               **kwargs)


def objective(trial: Any) -> float:
    """Trial 1 raises, trial 2 is pruned after reporting two values; the others complete."""
    x = trial.suggest_float("x", -10, 10)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if trial.number == 1:
        raise ValueError("diverged")
    if trial.number == 2:
        trial.report(5.0, step=0)
        trial.report(4.0, step=1)
        raise optuna.TrialPruned()
    return x**2 + (1.0 if kind == "b" else 0.0)


def runs_by_trial() -> dict[int, Any]:
    return {view.summary["trial_number"]: view for view in gittrack.Api().runs()}


def test_each_trial_is_a_run_of_the_study_group(repo: Path) -> None:
    tuning = study()
    callback = GittrackCallback(metric_name="loss", gittrack_kwargs=KWARGS)
    tuning.optimize(objective, n_trials=5, callbacks=[callback], catch=(ValueError,))
    runs = runs_by_trial()
    assert sorted(runs) == [0, 1, 2, 3, 4]
    for trial in tuning.trials:
        view = runs[trial.number]
        assert view.info.group == "tuning" and view.info.project == "search"
        assert view.name == f"trial-{trial.number}"
        assert view.config == trial.params
        assert view.summary["trial_state"] == trial.state.name
    states = {n: runs[n].summary["trial_state"] for n in runs}
    assert states == {0: "COMPLETE", 1: "FAIL", 2: "PRUNED", 3: "COMPLETE", 4: "COMPLETE"}
    for number in (0, 3, 4):
        assert runs[number].summary["loss"] == tuning.trials[number].value
        assert runs[number].state == RunState.FINISHED
    assert runs[1].state == RunState.FAILED and "loss" not in runs[1].summary
    assert runs[2].state == RunState.FINISHED
    pruned = runs[2].history()
    assert pruned["intermediate_value"].dropna().tolist() == [5.0, 4.0]


def test_decorated_objective_logs_into_its_trial_run(repo: Path) -> None:
    callback = GittrackCallback(gittrack_kwargs=KWARGS)

    @callback.track_in_gittrack()
    def tracked(trial: Any) -> float:
        for step in range(3):
            gittrack.log({"inner": trial.number * 10 + step})
        assert gittrack.run is callback.run_of(trial)
        return objective(trial)

    tuning = study()
    tuning.optimize(tracked, n_trials=4, callbacks=[callback], catch=(ValueError,))
    runs = runs_by_trial()
    assert sorted(runs) == [0, 1, 2, 3]
    for number, view in runs.items():
        assert view.history()["inner"].dropna().tolist() == [number * 10 + s for s in range(3)]
        assert view.config == tuning.trials[number].params
    assert runs[1].summary["trial_error"] == "ValueError: diverged"
    assert runs[1].state == RunState.FAILED
    assert runs[3].summary["value"] == tuning.trials[3].value
    assert runs[2].summary["trial_state"] == "PRUNED"
    assert gittrack.run is None  # every trial run finished


def test_an_uncaught_error_still_finishes_its_run(repo: Path) -> None:
    callback = GittrackCallback(gittrack_kwargs=KWARGS)
    tuning = study()
    with pytest.raises(ValueError, match="diverged"):
        tuning.optimize(callback.track_in_gittrack()(objective), n_trials=3,
                        callbacks=[callback])
    runs = runs_by_trial()
    assert sorted(runs) == [0, 1]
    assert runs[1].state == RunState.FAILED and runs[1].summary["trial_state"] == "FAIL"
    assert gittrack.run is None


def test_a_run_of_the_user_stays_open(repo: Path) -> None:
    with start_run(name="outer") as outer:
        callback = GittrackCallback(gittrack_kwargs=KWARGS)
        study().optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2, callbacks=[callback])
        assert gittrack.run is outer
    assert len(gittrack.Api().runs()) == 3


def test_multi_objective_values_by_name(repo: Path) -> None:
    tuning = study(directions=["minimize", "maximize"])
    callback = GittrackCallback(metric_name=["error", "speed"], gittrack_kwargs=KWARGS)
    tuning.optimize(lambda t: (t.suggest_float("x", 0, 1), 2.0), n_trials=2,
                    callbacks=[callback])
    for number, view in runs_by_trial().items():
        assert view.summary["error"] == tuning.trials[number].values[0]
        assert view.summary["speed"] == 2.0


def test_one_run_for_the_study(repo: Path) -> None:
    tuning = study(name="single")
    callback = GittrackCallback(as_multirun=False, gittrack_kwargs=KWARGS)
    tuning.optimize(objective, n_trials=4, callbacks=[callback], catch=(ValueError,))
    gittrack.finish()
    (view,) = gittrack.Api().runs()
    assert view.name == "single" and view.config["direction"] == ["MINIMIZE"]
    history = view.history()
    assert history["trial_number"].tolist() == [0, 1, 2, 3]
    assert history["trial_state"].tolist() == ["COMPLETE", "FAIL", "PRUNED", "COMPLETE"]
    assert history["x"].tolist() == [t.params["x"] for t in tuning.trials]
    assert history["value"].tolist()[3] == tuning.trials[3].value


def test_wandb_keywords_are_ignored_with_a_warning(repo: Path) -> None:
    with pytest.warns(GittrackWarning, match="entity"):
        callback = GittrackCallback(gittrack_kwargs={**KWARGS, "entity": "me"})
    study().optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1, callbacks=[callback])
    (view,) = gittrack.Api().runs()
    assert view.info.project == "search"


def test_optuna_integrations_wandb_signature(repo: Path) -> None:
    from gittrack.integrations.optuna import WeightsAndBiasesCallback

    callback = WeightsAndBiasesCallback(metric_name="loss", wandb_kwargs=KWARGS,
                                        as_multirun=True)

    @callback.track_in_wandb()
    def tracked(trial: Any) -> float:
        gittrack.log({"seen": 1})
        return trial.suggest_float("x", 0, 1)

    tuning = study()
    tuning.optimize(tracked, n_trials=2, callbacks=[callback])
    runs = runs_by_trial()
    assert {n: v.summary["loss"] for n, v in runs.items()} == \
        {t.number: t.value for t in tuning.trials}
    assert all(v.history()["seen"].dropna().tolist() == [1] for v in runs.values())
