"""Keras 3: ``GittrackMetricsLogger`` and ``GittrackModelCheckpoint`` callbacks.

>>> from gittrack.integrations.keras import GittrackMetricsLogger, GittrackModelCheckpoint
>>> model.fit(x, y, epochs=10, callbacks=[                               # doctest: +SKIP
...     GittrackMetricsLogger(log_freq="batch"),
...     GittrackModelCheckpoint("model.keras", monitor="val_loss", save_best_only=True)])

As W&B's ``WandbMetricsLogger`` and ``WandbModelCheckpoint``: epoch metrics as ``epoch/<name>``
(with ``epoch/epoch`` and ``epoch/learning_rate``), batch metrics as ``batch/<name>`` (with
``batch/batch_step``), and each checkpoint file Keras saves logged as a ``model`` artifact
(``latest``; ``best`` when the monitored value improved). Any Keras 3 backend.
See docs/integrations/keras.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gittrack.errors import UsageError
from gittrack.integrations._common import RunHolder, artifact_name, log_model_files, require

if TYPE_CHECKING:
    from gittrack.runs.live import Run

keras = require("keras", "keras")


def _float(value: Any) -> Any:
    try:
        return float(keras.ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return value


class GittrackMetricsLogger(keras.callbacks.Callback):  # type: ignore[name-defined]
    """Log a Keras ``fit``'s metrics to a gittrack run.

    ``log_freq``: ``"epoch"`` (default: one row per epoch), ``"batch"`` (also a row per batch)
    or an int N (also a row every N batches). ``initial_global_step``: the batch step to count
    from (a resumed training). ``init_kwargs`` go to ``gittrack.init`` when no run is active;
    a run this callback started is finished when training ends.
    """

    def __init__(self, log_freq: str | int = "epoch", initial_global_step: int = 0,
                 **init_kwargs: Any) -> None:
        super().__init__()
        if log_freq == "batch":
            log_freq = 1
        if log_freq != "epoch" and not (isinstance(log_freq, int) and log_freq > 0
                                        and not isinstance(log_freq, bool)):
            raise UsageError(f"log_freq must be 'epoch', 'batch' or a positive int, "
                             f"got {log_freq!r}")
        self.log_freq = log_freq
        self.global_step = initial_global_step
        self._holder = RunHolder(init_kwargs, "GittrackMetricsLogger")

    @property
    def run(self) -> Run | None:
        """The run recorded to (``None`` before ``fit`` starts)."""
        return self._holder.run

    def set_params(self, params: Any) -> None:
        super().set_params(params)
        run = self._holder.get()
        run.define_metric("epoch/*", step_metric="epoch/epoch")
        if self.log_freq != "epoch":
            run.define_metric("batch/*", step_metric="batch/batch_step")

    def _learning_rate(self) -> dict[str, Any]:
        optimizer = getattr(self.model, "optimizer", None)
        rate = getattr(optimizer, "learning_rate", None)
        return {} if rate is None else {"learning_rate": _float(rate)}

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        row = {"epoch": epoch, **{k: _float(v) for k, v in (logs or {}).items()},
               **self._learning_rate()}
        self._holder.get().log({f"epoch/{k}": v for k, v in row.items()})

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.global_step += 1
        if self.log_freq == "epoch" or self.global_step % int(self.log_freq):
            return
        row = {"batch_step": self.global_step, **{k: _float(v) for k, v in (logs or {}).items()},
               **self._learning_rate()}
        self._holder.get().log({f"batch/{k}": v for k, v in row.items()})

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._holder.finish()


class GittrackModelCheckpoint(keras.callbacks.ModelCheckpoint):  # type: ignore[name-defined]
    """Keras' ``ModelCheckpoint`` that also logs each file it saves as a version of the
    ``model`` artifact ``checkpoint_name`` (default ``model-<run id>``): aliases ``latest``,
    and ``best`` when the monitored value is the best so far (every saved file is with
    ``save_best_only=True``). The arguments are Keras'."""

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None,
                 checkpoint_name: str | None = None, **init_kwargs: Any) -> None:
        super().__init__(filepath, monitor=monitor, verbose=verbose,
                         save_best_only=save_best_only, save_weights_only=save_weights_only,
                         mode=mode, save_freq=save_freq,
                         initial_value_threshold=initial_value_threshold)
        self.checkpoint_name = checkpoint_name
        self._holder = RunHolder(init_kwargs, "GittrackModelCheckpoint")
        self._best_logged: Any = None

    def _save_model(self, epoch: int, batch: int | None, logs: Mapping[str, Any] | None
                    ) -> None:
        path = self._get_file_path(epoch, batch, logs or {})
        before = _mtime(path)
        super()._save_model(epoch, batch, logs)
        if _mtime(path) in (None, before):
            return  # nothing saved (not an improvement with save_best_only)
        run = self._holder.get()
        best = self._improved((logs or {}).get(self.monitor))
        name = self.checkpoint_name or f"model-{run.id}"
        log_model_files(run, artifact_name(name), [(path, os.path.basename(path))],
                        ["best"] if best else [],
                        {"epoch": epoch + 1, "batch": batch, "monitor": self.monitor,
                         "score": _float((logs or {}).get(self.monitor))})

    def _improved(self, current: Any) -> bool:
        if self.save_best_only:
            return True
        if current is None:
            return False
        if self.monitor_op is None:
            self._set_monitor_op()
        current = _float(current)
        if self._best_logged is None or self._is_improvement(current, self._best_logged):
            self._best_logged = current
            return True
        return False

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        super().on_train_end(logs)
        self._holder.finish()


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


__all__ = ["GittrackMetricsLogger", "GittrackModelCheckpoint"]
