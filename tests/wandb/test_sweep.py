"""``wandb.sweep`` / ``wandb.agent`` in this process: one run per trial, parameters as config."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack
import gittrack.wandb as wandb
from gittrack.errors import UsageError
from tests.helpers.wandb import FAST_WANDB


def _train() -> None:
    run = wandb.init(config={"lr": 1.0, "epochs": 1}, settings=FAST_WANDB)
    wandb.log({"loss": wandb.config.lr * wandb.config.layers})
    assert run.sweep_id is not None  # left open: the agent finishes it


def test_grid_sweep_runs_every_combination(repo: Path) -> None:
    sweep_id = wandb.sweep({"method": "grid", "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": {"lr": {"values": [0.1, 0.01]},
                                           "layers": {"values": [1, 2]},
                                           "act": {"value": "relu"}}}, project="p")
    wandb.agent(sweep_id, function=_train)
    runs = gittrack.Api().runs()
    assert sorted((r.config["lr"], r.config["layers"]) for r in runs) == [
        (0.01, 1), (0.01, 2), (0.1, 1), (0.1, 2)]
    assert {r.config["act"] for r in runs} == {"relu"} and {r.config["epochs"] for r in runs} == {1}
    assert {r.group for r in runs} == {f"sweep-{sweep_id}"}
    assert {r.metadata["wandb"]["sweep_id"] for r in runs} == {sweep_id}
    assert {str(r.state) for r in runs} == {"finished"}
    assert wandb.run is None


def test_random_sweep_samples_within_bounds(repo: Path) -> None:
    sweep_id = wandb.sweep({"method": "random", "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "layers": {"min": 1, "max": 3},
        "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}}}}})
    wandb.agent(sweep_id, function=_train, count=3)
    runs = gittrack.Api().runs()
    assert len(runs) == 3
    for run in runs:
        assert 1e-4 <= run.config["lr"] <= 1e-1 and run.config["layers"] in (1, 2, 3)
        assert run.config["opt"]["name"] in ("adam", "sgd")
    with pytest.raises(UsageError, match="needs count="):
        wandb.agent(sweep_id, function=_train)
    with pytest.raises(UsageError, match="no sweep"):
        wandb.agent("nope", function=_train, count=1)
    with pytest.raises(UsageError, match="min <= max"):
        wandb.sweep({"parameters": {"lr": {"min": 2.0, "max": 1.0}}})
