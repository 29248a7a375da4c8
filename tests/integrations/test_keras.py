"""The Keras 3 callbacks in a real (tiny) training on the torch backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import gittrack

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported (also conftest.py)
keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")

from gittrack.integrations.keras import (  # noqa: E402
    GittrackMetricsLogger,
    GittrackModelCheckpoint,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning",
                                        "ignore::FutureWarning",
                                        # ...but never one of gittrack's own
                                        "error::gittrack.errors.GittrackWarning")


def _data() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def _model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse",
                  metrics=["mae"])
    return model


def test_backend_is_torch() -> None:
    assert keras.backend.backend() == "torch"


@pytest.mark.slow
def test_fit_records_epoch_and_batch_metrics_and_checkpoints(repo: Path,
                                                             tmp_path: Path) -> None:
    x, y = _data()
    logger = GittrackMetricsLogger(log_freq="batch", project="keras",
                                   settings={"quiet": True})
    checkpoint = GittrackModelCheckpoint(str(tmp_path / "model-{epoch}.keras"),
                                         monitor="val_loss")
    history = _model().fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0,
                           callbacks=[logger, checkpoint])
    assert logger.run is not None
    run_id = logger.run.id
    view = gittrack.Api(repo).run(run_id)
    assert view.state == "finished" and view.info.project == "keras"
    rows = view.history()
    epochs = rows.dropna(subset=["epoch/epoch"])
    assert list(epochs["epoch/epoch"]) == [0, 1]
    assert list(epochs["epoch/loss"]) == pytest.approx(history.history["loss"])
    assert list(epochs["epoch/val_loss"]) == pytest.approx(history.history["val_loss"])
    assert list(epochs["epoch/learning_rate"]) == pytest.approx([0.01, 0.01])
    batches = rows.dropna(subset=["batch/batch_step"])
    assert list(batches["batch/batch_step"]) == [1, 2, 3, 4, 5, 6]  # 24 samples / 8, 2 epochs
    assert batches["batch/loss"].notna().all() and "batch/mae" in rows

    versions = gittrack.Api(repo).artifacts(f"model-{run_id}")
    assert sorted(v.metadata["epoch"] for v in versions) == [1, 2]
    best = gittrack.Api(repo).artifact(f"model-{run_id}:best")
    latest = gittrack.Api(repo).artifact(f"model-{run_id}:latest")
    assert latest.metadata["epoch"] == 2 and [f.path for f in latest.files()] == ["model-2.keras"]
    best_epoch = 1 + int(np.argmin(history.history["val_loss"]))
    assert best.metadata["epoch"] == best_epoch
    assert best.metadata["score"] == pytest.approx(min(history.history["val_loss"]))
    stored = latest.download(tmp_path / "got") / "model-2.keras"
    assert stored.read_bytes() == (tmp_path / "model-2.keras").read_bytes()


@pytest.mark.slow
def test_save_best_only_logs_only_improvements(repo: Path, tmp_path: Path) -> None:
    x, y = _data()
    run = gittrack.init(project="keras", settings={"quiet": True})
    checkpoint = GittrackModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss",
                                         save_best_only=True, checkpoint_name="tiny",
                                         initial_value_threshold=0.0)  # nothing beats 0
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[checkpoint])
    assert not (tmp_path / "best.keras").exists()
    checkpoint = GittrackModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss",
                                         save_best_only=True, checkpoint_name="tiny")
    history = _model().fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[checkpoint])
    assert run.state == "running"  # the user's run stays open
    run.finish()
    losses = history.history["loss"]
    improved = [i + 1 for i, v in enumerate(losses) if v < min(losses[:i], default=np.inf)]
    versions = gittrack.Api(repo).artifacts("tiny")
    assert sorted(v.metadata["epoch"] for v in versions) == improved
    best = gittrack.Api(repo).artifact("tiny:best")
    assert best.metadata["epoch"] == improved[-1] and best.producer == run.id


def test_log_freq_n_logs_every_nth_batch_counting_across_epochs(repo: Path) -> None:
    x, y = _data()
    logger = GittrackMetricsLogger(log_freq=3, initial_global_step=10, project="keras",
                                   settings={"quiet": True})
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[logger])
    assert logger.run is not None
    rows = gittrack.Api(repo).run(logger.run.id).history()
    # 4 batches per epoch, 8 in all, counted from 10: steps 11..18, every third logged
    assert list(rows["batch/batch_step"].dropna()) == [12, 15, 18]
    assert list(rows["epoch/epoch"].dropna()) == [0, 1]


def test_log_freq_is_checked() -> None:
    with pytest.raises(gittrack.UsageError, match="log_freq"):
        GittrackMetricsLogger(log_freq="sometimes")
    with pytest.raises(gittrack.UsageError, match="log_freq"):
        GittrackMetricsLogger(log_freq=0)


def test_wandb_names_are_the_gittrack_callbacks() -> None:
    import gittrack.wandb as wandb
    from gittrack.wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint

    assert WandbMetricsLogger is GittrackMetricsLogger
    assert WandbModelCheckpoint is GittrackModelCheckpoint
    assert wandb.keras.WandbMetricsLogger is GittrackMetricsLogger
