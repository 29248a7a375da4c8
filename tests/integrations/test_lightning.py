"""GittrackLogger in a real (tiny) Lightning training on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import gittrack

pl = pytest.importorskip("lightning.pytorch")
torch = pytest.importorskip("torch")

from gittrack.integrations.lightning import GittrackLogger  # noqa: E402

# Lightning's and torch's own deprecation notices and tips are not this test's business.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning",
                                        "ignore::FutureWarning",
                                        # ...but never one of gittrack's own
                                        "error::gittrack.errors.GittrackWarning")


class TinyModel(pl.LightningModule):  # type: ignore[misc]
    def __init__(self, lr: float = 0.05, hidden: int = 8) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 1))

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val/loss", torch.nn.functional.mse_loss(self.net(x), y))

    def test_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("test/loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _loader() -> Any:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=8)


def _trainer(tmp_path: Path, logger: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("max_epochs", 2)
    return pl.Trainer(logger=logger, log_every_n_steps=1, accelerator="cpu",
                      default_root_dir=tmp_path, enable_progress_bar=False,
                      enable_model_summary=False, **kwargs)


@pytest.mark.slow
def test_training_records_config_metrics_and_checkpoints(repo: Path, tmp_path: Path) -> None:
    logger = GittrackLogger(project="tiny", name="lit", config={"batch": 8}, log_model=True,
                            settings={"quiet": True})
    checkpoint = pl.callbacks.ModelCheckpoint(monitor="val/loss", save_top_k=1, save_last=True)
    trainer = _trainer(tmp_path, logger, callbacks=[checkpoint])
    trainer.fit(TinyModel(), _loader(), _loader())

    view = gittrack.Api(repo).run(logger.version)
    assert view.state == "finished"
    assert view.info.project == "tiny" and view.info.name == "lit"
    assert view.config == {"batch": 8, "lr": 0.05, "hidden": 8}
    history = view.history()
    train = history.dropna(subset=["train/loss"])
    assert list(train["_step"]) == list(range(8))  # 4 batches x 2 epochs, one row per step
    val = history.dropna(subset=["val/loss"])
    assert len(val) == 2 and set(val["epoch"]) == {0, 1}
    assert view.summary["train/loss"] == pytest.approx(train["train/loss"].iloc[-1])

    name = f"model-{logger.version}"
    best = gittrack.Api(repo).artifact(f"{name}:best")
    latest = gittrack.Api(repo).artifact(f"{name}:latest")
    assert best.type == "model" and [f.path for f in best.files()] == ["model.ckpt"]
    assert Path(checkpoint.best_model_path).name == best.metadata["original_filename"]
    assert best.metadata["score"] == pytest.approx(float(checkpoint.best_model_score))
    assert best.producer == logger.version
    # what was stored is the checkpoints' bytes (the same version when last is the best)
    stored = best.download(tmp_path / "best") / "model.ckpt"
    assert stored.read_bytes() == Path(checkpoint.best_model_path).read_bytes()
    stored = latest.download(tmp_path / "latest") / "model.ckpt"
    assert stored.read_bytes() == Path(checkpoint.last_model_path).read_bytes()


@pytest.mark.slow
def test_log_model_all_logs_each_checkpoint_as_saved(repo: Path, tmp_path: Path) -> None:
    logger = GittrackLogger(project="tiny", log_model="all", checkpoint_name="tiny-ckpt",
                            settings={"quiet": True})
    checkpoint = pl.callbacks.ModelCheckpoint(save_top_k=-1, every_n_epochs=1)
    _trainer(tmp_path, logger, callbacks=[checkpoint]).fit(TinyModel(), _loader())

    versions = gittrack.Api(repo).artifacts("tiny-ckpt")
    assert len(versions) == 2  # one per epoch
    names = sorted(v.metadata["original_filename"] for v in versions)
    assert names == ["epoch=0-step=4.ckpt", "epoch=1-step=8.ckpt"]


@pytest.mark.slow
def test_test_after_fit_continues_the_same_run(repo: Path, tmp_path: Path) -> None:
    logger = GittrackLogger(project="tiny", settings={"quiet": True})
    trainer = _trainer(tmp_path, logger, enable_checkpointing=False)
    model = TinyModel()
    trainer.fit(model, _loader())
    trainer.test(model, dataloaders=_loader())
    [view] = gittrack.Api(repo).runs()
    assert view.id == logger.version and view.state == "finished"
    history = view.history()
    assert len(history.dropna(subset=["train/loss"])) == 8
    assert len(history.dropna(subset=["test/loss"])) == 1
    assert view.summary["test/loss"] > 0


@pytest.mark.slow
def test_failed_training_marks_the_run_failed(repo: Path, tmp_path: Path) -> None:
    class Broken(TinyModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            if batch_idx == 2:
                raise RuntimeError("boom")
            return super().training_step(batch, batch_idx)

    logger = GittrackLogger(project="tiny", settings={"quiet": True})
    with pytest.raises(RuntimeError, match="boom"):
        _trainer(tmp_path, logger).fit(Broken(), _loader())
    view = gittrack.Api(repo).run(logger.version)
    assert view.state == "failed"
    assert list(view.history()["train/loss"].dropna().index) == [0, 1]


def test_hyperparams_namespace_and_odd_values_become_config(repo: Path) -> None:
    from argparse import Namespace

    logger = GittrackLogger(project="p", settings={"quiet": True})
    logger.log_hyperparams(Namespace(lr=0.1, device=torch.device("cpu"), act=torch.relu,
                                     nested={"opt": Namespace(beta=0.9)}))
    logger.log_metrics({"a": 1.0}, step=3)
    logger.finalize("success")
    view = gittrack.Api(repo).run(logger.version)
    assert view.config == {"lr": 0.1, "device": "cpu", "act": "relu",
                           "nested": {"opt": {"beta": 0.9}}}
    assert list(view.history()["_step"]) == [3]
    assert view.state == "finished"


def test_an_active_run_is_used_and_left_open(repo: Path) -> None:
    run = gittrack.init(project="outer", settings={"quiet": True})
    logger = GittrackLogger(project="ignored")
    assert logger.experiment is run and logger.version == run.id
    logger.log_metrics({"x": 2.0}, step=0)
    logger.finalize("success")
    assert run.state == "running"
    run.finish()
    assert gittrack.Api(repo).run(run.id).summary["x"] == 2.0


@pytest.mark.slow
def test_watch_records_gradient_histograms(repo: Path, tmp_path: Path) -> None:
    logger = GittrackLogger(project="tiny", offline=False, anonymous=None,
                            settings={"quiet": True})  # WandbLogger's arguments are accepted
    model = TinyModel()
    logger.watch(model, log="all", log_freq=2)
    _trainer(tmp_path, logger, enable_checkpointing=False, max_epochs=1).fit(model, _loader())
    histograms = gittrack.Api(repo).run(logger.version).histograms()
    keys = set(histograms["key"])
    assert {"gradients/net.0.weight", "gradients/net.2.bias"} <= keys
    # parameters come from a forward hook: on the module whose forward() runs (here model.net)
    assert not any(k.startswith("parameters/") for k in keys)


def test_log_model_is_checked(repo: Path) -> None:
    with pytest.raises(gittrack.UsageError, match="log_model"):
        GittrackLogger(log_model="best")  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_standalone_pytorch_lightning_trainer_takes_the_logger(repo: Path,
                                                                   tmp_path: Path) -> None:
    ptl = pytest.importorskip("pytorch_lightning")

    class Model(ptl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("loss", loss)
            return loss

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    logger = GittrackLogger(project="ptl", settings={"quiet": True})
    trainer = ptl.Trainer(max_epochs=1, logger=logger, log_every_n_steps=1, accelerator="cpu",
                          default_root_dir=tmp_path, enable_progress_bar=False,
                          enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(Model(), _loader())
    view = gittrack.Api(repo).run(logger.version)
    assert view.state == "finished"
    assert list(view.history().dropna(subset=["loss"])["_step"]) == [0, 1, 2, 3]
