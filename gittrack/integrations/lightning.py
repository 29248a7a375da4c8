"""PyTorch Lightning: ``GittrackLogger``, a ``Logger`` for ``Trainer(logger=...)``.

>>> from gittrack.integrations.lightning import GittrackLogger       # doctest: +SKIP
>>> trainer = Trainer(logger=GittrackLogger(project="mnist", log_model=True))  # doctest: +SKIP

As Lightning's ``WandbLogger``: hyperparameters go to the run's config, metrics to its history at
Lightning's global step, checkpoints to ``model`` artifacts with the aliases ``latest`` and
``best`` (``log_model=True``: at the end of training; ``"all"``: each one as it is saved).
Only rank zero records. Works with ``lightning`` (``lightning.pytorch``) or, without it, the
standalone ``pytorch_lightning`` package. See docs/integrations/lightning.md.
"""

from __future__ import annotations

import importlib
import os
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gittrack.errors import UsageError
from gittrack.integrations._common import (
    RunHolder,
    artifact_name,
    log_model_files,
    plain_config,
    step_for,
)

if TYPE_CHECKING:
    from gittrack.runs.live import Run


def _lightning() -> Any:
    for module in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return importlib.import_module(module)
        except ImportError:
            continue
    raise UsageError("gittrack.integrations.lightning needs PyTorch Lightning: "
                     "pip install 'gittrack[lightning]'")


pl = _lightning()
_rank_zero_only = pl.utilities.rank_zero_only
_rank_zero_experiment = importlib.import_module(
    pl.__name__.replace("pytorch", "fabric") if pl.__name__ == "lightning.pytorch"
    else "lightning_fabric").loggers.logger.rank_zero_experiment

_CHECKPOINT_FIELDS = ("monitor", "mode", "save_last", "save_top_k", "save_weights_only",
                      "_every_n_train_steps")


class GittrackLogger(pl.loggers.Logger):  # type: ignore[name-defined]
    """Record a Lightning training in a gittrack run.

    ``project``, ``name``, ``config`` and ``init_kwargs`` go to ``gittrack.init`` when the run
    starts (on first use, on rank zero); an active run (``gittrack.run``) is used instead if
    there is one, and then left open. ``log_model``: ``False`` (default), ``True`` (the best and
    last checkpoints once training ends) or ``"all"`` (every checkpoint as it is saved).
    ``checkpoint_name``: the artifact's name (default ``model-<run id>``). ``prefix`` is put
    before every metric key, as W&B's; ``version``/``id`` continue that run if it exists.
    ``offline``, ``anonymous`` and ``add_file_policy`` are ``WandbLogger``'s, accepted and
    without effect (a run is always local); other W&B keywords of ``wandb.init`` that
    ``gittrack.init`` lacks (``entity``...) are ignored with one warning.
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(
        self,
        project: str | None = None,
        name: str | None = None,
        config: Any = None,
        log_model: bool | Literal["all"] = False,
        checkpoint_name: str | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        prefix: str = "",
        experiment: Run | None = None,
        offline: bool = False,
        anonymous: bool | None = None,
        add_file_policy: str = "mutable",
        **init_kwargs: Any,
    ) -> None:
        # offline, anonymous, add_file_policy: WandbLogger's, accepted for scripts written
        # for it; gittrack is always local and stores checkpoint bytes when logged.
        super().__init__()
        if log_model not in (True, False, "all"):
            raise UsageError(f"log_model must be True, False or 'all', got {log_model!r}")
        run_id = init_kwargs.pop("version", None) or init_kwargs.pop("id", None)
        if run_id is not None:
            init_kwargs.update(id=run_id, resume=init_kwargs.get("resume", "allow"))
        directory = save_dir if save_dir is not None else init_kwargs.pop("dir", None)
        self._project = project
        self._log_model = log_model
        self._checkpoint_name = checkpoint_name
        self._save_dir = None if directory is None else os.fspath(directory)
        self._prefix = prefix
        self._holder = RunHolder({"project": project, "name": name, "config": config,
                                  **init_kwargs}, "GittrackLogger", experiment)
        self._id: str | None = run_id
        self._logged_time: dict[str, float] = {}
        self._callbacks: dict[int, Any] = {}

    # -- what Lightning asks -----------------------------------------------------------------
    @property
    @_rank_zero_experiment
    def experiment(self) -> Run:
        """The gittrack run (started on first use; continued by a ``test()`` after the
        ``fit()`` that finished it)."""
        return self._holder.get()

    @property
    def name(self) -> str | None:
        """The project, as ``WandbLogger.name`` (Lightning puts checkpoints under
        ``save_dir/name/version``); the run's own name is ``logger.experiment.name``."""
        if self._project is not None:
            return self._project
        run = self._holder.run
        return run.info.project if run is not None else "lightning_logs"

    @property
    def version(self) -> str | None:
        """The run id (the run starts here if it has not yet, on rank zero)."""
        if self._holder.run is not None:
            return str(self._holder.run.id)
        if self._id is not None:
            return self._id
        if _rank_zero_only.rank == 0:
            return str(self.experiment.id)
        return None

    @property
    def save_dir(self) -> str | None:
        return self._save_dir

    @_rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any,
                        **kwargs: Any) -> None:
        """``params`` (a dict or an ``argparse.Namespace``) into the run's config."""
        self.experiment.config.update(plain_config(params))

    @_rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """``metrics`` at Lightning's global ``step`` (the run's next step without one, or
        when the run is past it: a ``test()`` continuing the run ``fit()`` finished)."""
        data = {f"{self._prefix}{self.LOGGER_JOIN_CHAR}{k}" if self._prefix else k: v
                for k, v in metrics.items()}
        run = self.experiment
        run.log(data, step=step_for(run, step))

    def watch(self, model: Any, log: str | None = "gradients", log_freq: int = 100,
              log_graph: bool = True) -> None:
        """``run.watch(model, log=, log_freq=)``: histograms of gradients and/or parameters."""
        self.experiment.watch(model, log=log, log_freq=log_freq, log_graph=log_graph)

    @_rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if self._log_model == "all" or (self._log_model is True
                                         and checkpoint_callback.save_top_k == -1):
            self._log_checkpoints(checkpoint_callback)
        elif self._log_model is True:
            self._callbacks[id(checkpoint_callback)] = checkpoint_callback

    @_rank_zero_only
    def finalize(self, status: str) -> None:
        """End of ``fit``/``test``: the best and last checkpoints (``log_model=True``), then
        the run finishes (``failed`` when ``status`` is ``"failed"``) if this logger started
        it."""
        if self._holder.run is None:
            return
        if status == "success":
            for callback in self._callbacks.values():
                self._log_checkpoints(callback)
        self._holder.finish(exit_code=1 if status == "failed" else 0)

    # -- checkpoints as artifacts ------------------------------------------------------------
    def _log_checkpoints(self, callback: Any) -> None:
        run = self.experiment
        for mtime, path, score in _new_checkpoints(callback, self._logged_time):
            metadata = {
                "score": score,
                "original_filename": Path(path).name,
                type(callback).__name__: {k: getattr(callback, k) for k in _CHECKPOINT_FIELDS
                                          if hasattr(callback, k)},
            }
            if not self._checkpoint_name:
                self._checkpoint_name = f"model-{run.id}"
            best = path == getattr(callback, "best_model_path", None)
            log_model_files(run, artifact_name(self._checkpoint_name), [(path, "model.ckpt")],
                            ["best"] if best else [], metadata)
            self._logged_time[path] = mtime


def _new_checkpoints(callback: Any, logged: Mapping[str, float]
                     ) -> list[tuple[float, str, Any]]:
    """The checkpoint files of ``callback`` not logged since they last changed, oldest first:
    its last, best and top-k files (as Lightning's ``_scan_checkpoints``)."""
    scores: dict[str, Any] = {}
    if getattr(callback, "last_model_path", ""):
        scores[callback.last_model_path] = getattr(callback, "current_score", None)
    for path, score in getattr(callback, "best_k_models", {}).items():
        scores[path] = score
    if getattr(callback, "best_model_path", ""):
        scores[callback.best_model_path] = getattr(callback, "best_model_score", None)
    found = sorted((Path(p).stat().st_mtime, p, s) for p, s in scores.items() if Path(p).is_file())
    return [c for c in found if c[1] not in logged or logged[c[1]] < c[0]]


__all__ = ["GittrackLogger"]
