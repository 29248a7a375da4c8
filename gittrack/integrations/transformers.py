"""Hugging Face Transformers: ``GittrackCallback``, a ``TrainerCallback``.

>>> from gittrack.integrations.transformers import GittrackCallback      # doctest: +SKIP
>>> Trainer(model, args, train_dataset=data, callbacks=[GittrackCallback()])  # doctest: +SKIP

Importing this module also registers the name ``"gittrack"`` in Transformers'
``INTEGRATION_TO_CALLBACK``, so ``TrainingArguments(report_to="gittrack")`` (or
``--report_to gittrack``) works in a process that imported it; ``report_to="all"`` cannot
include it (Transformers lists the integrations it detects itself).

As W&B's ``WandbCallback``: the ``TrainingArguments`` and the model's config become the run's
config (with ``model/num_parameters``), logs are recorded at the trainer's global step with
``train/``, ``eval/`` and ``test/`` prefixes (``eval_loss`` → ``eval/loss``), the end-of-training
figures (``train_runtime``, ``train_loss``...) go to the summary, and with ``log_model`` (or
``GITTRACK_LOG_MODEL``) ``"end"`` the trained model, or ``"checkpoint"`` each checkpoint folder,
is logged as a ``model`` artifact. See docs/integrations/transformers.md.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.errors import UsageError
from gittrack.integrations._common import (
    RunHolder,
    artifact_name,
    log_model_files,
    plain_config,
    require,
    step_for,
)

if TYPE_CHECKING:
    from gittrack.runs.live import Run

_transformers = require("transformers", "transformers")
_utils = require("transformers.integrations.integration_utils", "transformers")

# Logged once at the end of training: summary values, not history (as WandbCallback).
SINGLE_VALUE_SCALARS = ("train_runtime", "train_samples_per_second", "train_steps_per_second",
                        "train_loss", "total_flos")
LOG_MODEL_CHOICES = ("end", "checkpoint", "false")


def rewrite_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """Transformers' keys as W&B names them: ``eval_x`` → ``eval/x``, ``test_x`` →
    ``test/x``, anything else → ``train/x``."""
    out = {}
    for key, value in logs.items():
        for prefix in ("eval", "test"):
            if key.startswith(f"{prefix}_"):
                out[f"{prefix}/{key[len(prefix) + 1:]}"] = value
                break
        else:
            out[f"train/{key}"] = value
    return out


def _log_model_setting(value: str | bool | None) -> str:
    if value is None:
        value = os.environ.get("GITTRACK_LOG_MODEL", "false")
    text = str(value).lower()
    text = {"true": "end", "1": "end", "0": "false", "none": "false", "": "false"}.get(text, text)
    if text not in LOG_MODEL_CHOICES:
        raise UsageError(f"log_model (GITTRACK_LOG_MODEL) must be one of "
                         f"{', '.join(LOG_MODEL_CHOICES)}, got {value!r}")
    return text


class GittrackCallback(_transformers.TrainerCallback):  # type: ignore[name-defined]
    """Record a ``transformers.Trainer`` training in a gittrack run.

    ``project`` (default ``$GITTRACK_PROJECT``, else ``"huggingface"``) and ``init_kwargs``
    go to ``gittrack.init``; the run's name is ``TrainingArguments.run_name`` when set. An
    active run (``gittrack.run``) is used instead, and left open. ``log_model``: ``"end"``
    (or ``True``), ``"checkpoint"`` or ``"false"`` (default: ``$GITTRACK_LOG_MODEL``).
    """

    def __init__(self, project: str | None = None, log_model: str | bool | None = None,
                 **init_kwargs: Any) -> None:
        self._log_model = _log_model_setting(log_model)
        project = project or os.environ.get("GITTRACK_PROJECT", "huggingface")
        self._holder = RunHolder({"project": project, **init_kwargs}, "GittrackCallback")

    @property
    def run(self) -> Run | None:
        """The run being recorded (``None`` before training starts)."""
        return self._holder.run

    # -- the run -------------------------------------------------------------------------
    def setup(self, args: Any, state: Any, model: Any) -> None:
        """Start (or take over) the run and record the config, on the main process only."""
        if not state.is_world_process_zero:
            return
        kwargs = self._holder.kwargs
        if state.trial_name is not None:
            kwargs.setdefault("name", state.trial_name)
            kwargs.setdefault("group", args.run_name or args.output_dir)
        elif args.run_name is not None and args.run_name != args.output_dir:
            kwargs.setdefault("name", args.run_name)
        run = self._holder.get()
        run.config.update(plain_config(_combined_config(args, model)))
        run.define_metric("train/global_step")
        run.define_metric("*", step_metric="train/global_step")
        num_parameters = getattr(model, "num_parameters", None)
        if callable(num_parameters):
            run.config["model/num_parameters"] = int(num_parameters())
        watch = os.environ.get("GITTRACK_WATCH", "false")
        if watch in ("all", "parameters", "gradients") and model is not None:
            run.watch(model, log=watch, log_freq=max(100, state.logging_steps))

    def _active(self, args: Any, state: Any, model: Any) -> Run | None:
        """The run, started if needed; continued if ``on_train_end`` finished it and the
        trainer goes on (``trainer.evaluate()`` after ``train()``)."""
        if not state.is_world_process_zero:
            return None
        if self._holder.run is None:
            self.setup(args, state, model)
        return self._holder.get()

    # -- the trainer's events --------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       **kwargs: Any) -> None:
        if state.is_hyper_param_search:  # one run per trial
            self._holder.detach()
            self._holder.kwargs.pop("name", None)
            self._holder.kwargs.pop("group", None)
        self._active(args, state, model)

    def on_log(self, args: Any, state: Any, control: Any, model: Any = None,
               logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        run = self._active(args, state, model)
        if run is None or not logs:
            return
        for key in SINGLE_VALUE_SCALARS:
            if key in logs:
                run.summary[key] = logs[key]
        rows = rewrite_logs({k: v for k, v in logs.items() if k not in SINGLE_VALUE_SCALARS})
        run.log({**rows, "train/global_step": state.global_step},
                step=step_for(run, state.global_step))

    def on_evaluate(self, args: Any, state: Any, control: Any, model: Any = None,
                    metrics: dict[str, Any] | None = None, **kwargs: Any) -> None:
        # The metrics themselves arrive through on_log (Trainer.evaluate logs them): record
        # them once. Here the run is made sure of (evaluate() without train()).
        self._active(args, state, model)

    def on_predict(self, args: Any, state: Any, control: Any, metrics: Any = None,
                   **kwargs: Any) -> None:
        run = self._active(args, state, kwargs.get("model"))
        if run is not None and metrics:
            run.log(rewrite_logs(dict(metrics)), step=step_for(run, state.global_step))

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        run = self._holder.run
        if self._log_model != "checkpoint" or run is None or not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            log_model_files(run, self._model_name(args), [(str(folder), "")],
                            [f"checkpoint_global_step_{state.global_step}"],
                            {"global_step": state.global_step, "epoch": state.epoch})

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None,
                     processing_class: Any = None, **kwargs: Any) -> None:
        run = self._holder.run
        if run is None or not state.is_world_process_zero:
            return
        if self._log_model == "end" and model is not None:
            self._log_final_model(run, args, state, model, processing_class)
        self._holder.finish()

    # -- the model as an artifact ----------------------------------------------------------
    def _model_name(self, args: Any) -> str:
        run = self._holder.get()
        named = args.run_name is not None and args.run_name != args.output_dir
        return artifact_name(f"model-{run.name if named else run.id}")

    def _log_final_model(self, run: Run, args: Any, state: Any, model: Any,
                         processing_class: Any) -> None:
        metadata: dict[str, Any] = {k: v for k, v in run.summary.items()
                                    if isinstance(v, (int, float)) and not k.startswith("_")}
        if args.load_best_model_at_end and state.best_metric is not None:
            metadata[f"eval/{args.metric_for_best_model}"] = state.best_metric
        metadata["final_model"] = True
        with tempfile.TemporaryDirectory() as folder:
            model.save_pretrained(folder)
            if processing_class is not None and hasattr(processing_class, "save_pretrained"):
                processing_class.save_pretrained(folder)
            Path(folder, "model_architecture.txt").write_text(str(model), encoding="utf-8")
            aliases = ["final_model", *(["best"] if args.load_best_model_at_end else [])]
            log_model_files(run, self._model_name(args), [(folder, "")], aliases, metadata)


def _combined_config(args: Any, model: Any) -> dict[str, Any]:
    """The model's config under the training arguments, as WandbCallback merges them."""
    combined = dict(args.to_dict())
    config = getattr(model, "config", None)
    if config is not None:
        combined = {**(config if isinstance(config, dict) else config.to_dict()), **combined}
    return combined


# ``TrainingArguments(report_to="gittrack")``: Transformers looks names up in this dict when a
# Trainer is made (transformers.integrations.integration_utils.get_reporting_integration_callbacks)
_utils.INTEGRATION_TO_CALLBACK.setdefault("gittrack", GittrackCallback)

__all__ = ["GittrackCallback", "rewrite_logs"]
