"""``wandb.run``, ``wandb.config``, ``wandb.summary``, ``wandb.log`` and ``wandb.alert``."""

from __future__ import annotations

import argparse
import enum
import pathlib
from pathlib import Path

import numpy as np
import pytest

import gittrack
import gittrack.wandb as wandb
from gittrack.errors import UsageError
from tests.helpers.wandb import start


class Optim(enum.Enum):
    ADAM = "adam"


def test_config_attribute_and_item_access_and_w_and_b_values(repo: Path) -> None:
    torch = pytest.importorskip("torch")
    args = argparse.Namespace(lr=0.1, epochs=3)
    start(config=args)
    wandb.config.device = torch.device("cpu")
    wandb.config["path"] = pathlib.Path("data/x")
    wandb.config.update({"optim": Optim.ADAM, "dtype": torch.float32, "act": len})
    wandb.config.update(argparse.Namespace(bs=16))
    assert wandb.config.lr == 0.1 and wandb.config["epochs"] == 3
    assert (wandb.config.device, wandb.config.path, wandb.config.optim, wandb.config.dtype,
            wandb.config.act) == ("cpu", "data/x", "ADAM", "torch.float32", "builtins.len")
    assert "bs" in wandb.config and wandb.config.get("missing", 7) == 7
    wandb.config.setdefaults({"bs": 99, "warmup": 5})
    assert (wandb.config.bs, wandb.config.warmup) == (16, 5)
    with pytest.raises(UsageError, match="allow_val_change=True"):
        wandb.config.update({"lr": 0.2})
    with pytest.raises(UsageError):
        wandb.config.lr = 0.3
    wandb.config.update({"lr": 0.2}, allow_val_change=True)
    wandb.config.update({"lr": 0.2})  # the same value again is no change
    run_id = wandb.run.id
    wandb.finish()
    assert gittrack.Api().run(run_id).config == {
        "lr": 0.2, "epochs": 3, "device": "cpu", "path": "data/x", "optim": "ADAM",
        "dtype": "torch.float32", "act": "builtins.len", "bs": 16, "warmup": 5}


def test_init_allow_val_change_lets_values_change(repo: Path) -> None:
    run = start(config={"lr": 0.1}, allow_val_change=True)
    run.config.lr = 0.5
    assert run.config["lr"] == 0.5
    run.finish()


def test_summary_access_update_and_json_dict(repo: Path) -> None:
    run = start()
    run.log({"loss": 0.5})
    wandb.summary["best"] = 0.1
    wandb.summary.final = np.float32(2.0)
    run.summary.update({"acc": 0.9})
    assert wandb.summary.best == 0.1 and run.summary["loss"] == 0.5
    plain = run.summary._json_dict
    assert type(plain) is dict and plain == {"loss": 0.5, "best": 0.1, "final": 2.0, "acc": 0.9}
    run.finish()
    assert gittrack.Api().run(run.id).summary == plain


def test_log_tensors_numpy_scalars_and_arrays(repo: Path) -> None:
    torch = pytest.importorskip("torch")
    run = start()
    for it in range(3):
        wandb.log({"iter": it, "train/loss": torch.tensor(1.0 / (it + 1)),
                   "np": np.float64(it), "weights": torch.arange(10.0)})
    wandb.log({"grads": [0.1, 0.2, 0.3]})
    wandb.log({"late": 1}, step=10)
    run.finish()
    view = gittrack.Api().run(run.id)
    history = view.history()
    assert list(history["train/loss"].dropna()) == pytest.approx([1.0, 0.5, 1 / 3])
    assert list(history["np"].dropna()) == [0.0, 1.0, 2.0]
    hists = view.histograms("weights")
    assert len(hists) == 3  # several values: a histogram, as W&B logs them
    assert len(view.histograms("grads")) == 1


def test_define_metric_and_histogram_signature(repo: Path) -> None:
    run = start()
    wandb.define_metric("val/loss", summary="min")
    hist = wandb.Histogram(sequence=[1, 2, 3, 4], num_bins=4)
    assert isinstance(hist, wandb.Histogram) and isinstance(hist, gittrack.Histogram)
    assert hist.num_bins == 4
    binned = wandb.Histogram(np_histogram=np.histogram([1, 2, 2, 3], bins=3))
    assert sum(binned.counts) == 4
    wandb.log({"val/loss": 2.0, "h": hist})
    wandb.log({"val/loss": 1.0})
    wandb.log({"val/loss": 3.0})
    run.finish()
    assert gittrack.Api().run(run.id).summary["val/loss"] == {"min": 1.0}


def test_alert_is_recorded_and_printed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = start()
    run.log({"x": 1})
    wandb.alert(title="Low accuracy", text="acc 0.1 < 0.5", level=wandb.AlertLevel.WARN)
    run.alert("done", "all good")
    with pytest.raises(UsageError, match="alert level"):
        wandb.alert("t", "x", level="LOUD")
    run.finish()
    assert "alert [WARN] Low accuracy: acc 0.1 < 0.5" in capsys.readouterr().err
    alerts = gittrack.Api().run(run.id).metadata["alerts"]
    assert [(a["title"], a["text"], a["level"], a["step"]) for a in alerts] == [
        ("Low accuracy", "acc 0.1 < 0.5", "WARN", 1), ("done", "all good", "INFO", 1)]


def test_run_attributes_scripts_read(repo: Path) -> None:
    run = start(project="p", entity="e", group="g", job_type="train", name="n")
    assert (run.project, run.entity, run.group, run.job_type, run.display_name) == (
        "p", "e", "g", "train", "n")
    assert run.path == f"e/p/{run.id}" and run.url is None and run.offline
    run.name = "renamed"
    run.tags = ["t"]
    assert wandb.run is run
    with run:
        pass
    view = gittrack.Api().run(run.id)
    assert view.name == "renamed" and list(view.tags) == ["t"] and view.state == "finished"


def test_watch_and_unwatch(repo: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(3, 1)
    run = start()
    wandb.watch(model, log="all", log_freq=1)
    model(torch.ones(2, 3)).sum().backward()
    wandb.log({"loss": 1.0})
    wandb.unwatch(model)
    run.finish()
    assert len(gittrack.Api().run(run.id).histograms()) > 0
