"""W&B's names over gittrack: change ``import wandb`` to ``import gittrack.wandb as wandb``.

>>> import gittrack.wandb as wandb                                         # doctest: +SKIP
>>> run = wandb.init(project="nanogpt", entity="me", config={"lr": 6e-4})  # doctest: +SKIP
>>> wandb.log({"iter": 0, "train/loss": loss})                             # doctest: +SKIP
>>> wandb.finish()                                                         # doctest: +SKIP

Every keyword of ``wandb.init`` is accepted; what each W&B call becomes is in
docs/migrating-from-wandb.md. Nothing is sent anywhere: runs are commits in this repository,
shared with ``gittrack push``. ``mode="disabled"`` (or ``WANDB_MODE=disabled``,
``WANDB_DISABLED=true``, ``GITTRACK_MODE=disabled``) records nothing.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gittrack.api.disabled import DisabledRun
from gittrack.formats.histogram import Histogram as _Histogram
from gittrack.wandb._session import current_run, finish, init, log
from gittrack.wandb._term import AlertLevel, login, setup, teardown, termerror, termlog, termwarn

if TYPE_CHECKING:  # imported on first use (``__getattr__``): ``import gittrack.wandb`` is quick
    from gittrack import plot as plot
    from gittrack.formats.media.audio import Audio
    from gittrack.formats.media.image import Image
    from gittrack.formats.media.table import Table
    from gittrack.formats.media.text import Html
    from gittrack.formats.media.video import Video
    from gittrack.plot import plot_table
    from gittrack.wandb._api import Api
    from gittrack.wandb._artifact import Artifact
    from gittrack.wandb._files import restore
    from gittrack.wandb._run import Run
    from gittrack.wandb._settings import Settings
    from gittrack.wandb._sweep import agent, sweep

_LAZY = {
    "Api": "gittrack.wandb._api",
    "Artifact": "gittrack.wandb._artifact",
    "Audio": "gittrack.formats.media.audio",
    "Html": "gittrack.formats.media.text",
    "Image": "gittrack.formats.media.image",
    "Run": "gittrack.wandb._run",
    "Settings": "gittrack.wandb._settings",
    "Table": "gittrack.formats.media.table",
    "Video": "gittrack.formats.media.video",
    "plot_table": "gittrack.plot",
    "restore": "gittrack.wandb._files",
    "sweep": "gittrack.wandb._sweep",
    "agent": "gittrack.wandb._sweep",
}

__version__ = "0.31.0"
"""The W&B API this module follows (scripts and frameworks compare it with a minimum)."""


class _HistogramType(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, _Histogram)


class Histogram(metaclass=_HistogramType):
    """``wandb.Histogram(sequence=None, np_histogram=None, num_bins=64)``: makes a
    ``gittrack.Histogram`` (64 bins by default, at most 512)."""

    def __new__(cls, sequence: Any = None, np_histogram: Any = None,  # type: ignore[misc]
                num_bins: int = 64) -> _Histogram:
        return _Histogram(sequence, num_bins, np_histogram=np_histogram)


def _run(what: str) -> Any:
    from gittrack.wandb._session import active

    return active(what)


def define_metric(name: str, step_metric: str | None = None, step_sync: bool | None = None,
                  hidden: bool | None = None, summary: str | None = None,
                  goal: str | None = None, overwrite: bool | None = None) -> Any:
    return _run("define_metric").define_metric(name, step_metric=step_metric,
                                               step_sync=step_sync, hidden=hidden,
                                               summary=summary, goal=goal, overwrite=overwrite)


def watch(models: Any = None, criterion: Any = None, log: str | None = "gradients",
          log_freq: int = 1000, idx: int | None = None, log_graph: bool = False) -> None:
    _run("watch").watch(models, criterion=criterion, log=log, log_freq=log_freq, idx=idx,
                        log_graph=log_graph)


def unwatch(models: Any = None) -> None:
    _run("unwatch").unwatch(models)


def save(glob_str: str | os.PathLike[str] | None = None,
         base_path: str | os.PathLike[str] | None = None, policy: str = "live",
         glob: bool = True) -> Any:
    """Store files with the current run: see ``gittrack.wandb.Run.save``."""
    return _run("save").save(glob_str, base_path, policy)


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """Recorded in the run's ``run.yaml`` (``alerts``) and printed to stderr."""
    _run("alert").alert(title, text, level=level, wait_duration=wait_duration)


def log_artifact(artifact_or_path: Any, name: str | None = None, type: str | None = None,
                 aliases: Iterable[str] | str | None = None,
                 tags: Iterable[str] | None = None) -> Any:
    return _run("log_artifact").log_artifact(artifact_or_path, name=name, type=type,
                                             aliases=aliases, tags=tags)


def use_artifact(artifact_or_name: Any, type: str | None = None,
                 aliases: Iterable[str] | None = None, use_as: str | None = None) -> Any:
    return _run("use_artifact").use_artifact(artifact_or_name, type=type, aliases=aliases,
                                             use_as=use_as)


def log_code(root: str | None = ".", name: str | None = None, include_fn: Any = None,
             exclude_fn: Any = None) -> Any:
    return _run("log_code").log_code(root, name, include_fn, exclude_fn)


def mark_preempting() -> None:
    """Accepted: a preempted run that dies is recovered as ``crashed`` and resumable."""


def __getattr__(name: str) -> Any:
    if name == "plot":  # the module gittrack.plot, as wandb.plot
        return importlib.import_module("gittrack.plot")
    if name in ("sklearn", "integration", "keras"):  # wandb.sklearn.plot_roc(...): on first use
        return importlib.import_module(f"gittrack.wandb.{name}")
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    # wandb.run, wandb.config, wandb.summary: the current run's (None / {} without one, as
    # W&B's placeholders that scripts test with ``if wandb.run is not None``)
    if name == "run":
        return current_run()
    if name in ("config", "summary"):
        run = current_run()
        if run is None:
            from gittrack.api.disabled import AttrDict

            return AttrDict()
        return getattr(run, name)
    raise AttributeError(f"module 'gittrack.wandb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "run", "config", "summary"})


__all__ = [
    "AlertLevel",
    "Api",
    "Artifact",
    "Audio",
    "DisabledRun",
    "Histogram",
    "Html",
    "Image",
    "Run",
    "Settings",
    "Table",
    "Video",
    "__version__",
    "agent",
    "alert",
    "define_metric",
    "finish",
    "init",
    "log",
    "log_artifact",
    "log_code",
    "login",
    "mark_preempting",
    "plot",
    "plot_table",
    "restore",
    "save",
    "setup",
    "sweep",
    "teardown",
    "termerror",
    "termlog",
    "termwarn",
    "unwatch",
    "use_artifact",
    "watch",
]
