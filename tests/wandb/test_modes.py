"""Modes: ``disabled`` records nothing, however it is asked for; the run still works."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack
import gittrack.wandb as wandb
from tests.helpers.wandb import state_of


def _script(tmp_path: Path) -> None:
    """What a training script does with its run."""
    run = wandb.init(project="p", name="n", config={"lr": 0.1})
    assert run.id and run.name == "n"
    assert run.config.lr == 0.1 and wandb.config["lr"] == 0.1
    wandb.config.update({"bs": 4}, allow_val_change=True)
    wandb.config.epochs = 3
    assert dict(wandb.config) == {"lr": 0.1, "bs": 4, "epochs": 3}
    for step in range(3):
        wandb.log({"loss": 1.0 / (step + 1)})
        run.log({"acc": 0.5}, step=step)
    wandb.summary["best"] = 1
    assert wandb.summary._json_dict == {"best": 1}
    wandb.define_metric("loss", summary="min")
    (tmp_path / "f.txt").write_text("x")
    wandb.save(str(tmp_path / "f.txt"))
    wandb.alert("t", "x")
    wandb.watch(object())
    art = wandb.Artifact("a", type="dataset")
    run.log_artifact(art)
    run.use_artifact("a:latest")
    assert wandb.run is run
    run.finish()
    wandb.finish()
    assert wandb.run is None


@pytest.mark.parametrize("how", ["argument", "WANDB_MODE", "WANDB_DISABLED", "GITTRACK_MODE",
                                 "settings"])
def test_disabled_writes_nothing(how: str, repo: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_of(repo)
    if how == "WANDB_MODE":
        monkeypatch.setenv("WANDB_MODE", "disabled")
    elif how == "WANDB_DISABLED":
        monkeypatch.setenv("WANDB_DISABLED", "true")
    elif how == "GITTRACK_MODE":
        monkeypatch.setenv("GITTRACK_MODE", "disabled")
    original = wandb.init
    if how == "argument":
        monkeypatch.setattr(wandb, "init", lambda **kw: original(mode="disabled", **kw))
    elif how == "settings":
        monkeypatch.setattr(wandb, "init", lambda **kw: original(
            settings=wandb.Settings(mode="disabled"), **kw))
    _script(tmp_path)
    assert state_of(repo) == before
    assert before[0] == {}  # no ref at all


def test_disabled_needs_no_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    _script(tmp_path)
    assert not (tmp_path / ".git").exists()


def test_an_explicit_mode_wins_over_the_environment(repo: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    run = wandb.init(mode="offline", settings={"quiet": True, "console": "off"})
    run.log({"x": 1})
    run.finish()
    assert gittrack.Api().run(run.id).summary == {"x": 1}



def test_either_variable_switching_off_wins(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_of(repo)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("GITTRACK_MODE", "disabled")
    run = wandb.init()
    run.log({"x": 1})
    run.finish()
    assert isinstance(run, wandb.DisabledRun) and state_of(repo) == before
