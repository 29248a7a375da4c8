"""gittrack: experiment tracking whose runs are commits in your own git repository.

>>> import gittrack                                                      # doctest: +SKIP
>>> with gittrack.init(project="demo", config={"lr": 0.01}) as run:     # doctest: +SKIP
...     for step in range(100):
...         run.log({"loss": 1 / (step + 1)})
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gittrack._version import __version__
from gittrack.errors import (
    AmbiguousNameError,
    BlobNotFoundError,
    ConflictError,
    CryptoError,
    DecryptionError,
    DeletedOnRemoteError,
    DivergedError,
    FormatError,
    GittrackError,
    GittrackWarning,
    InvalidKeyError,
    InvalidSettingError,
    InvalidValueError,
    KeyMissingError,
    NoActiveRunError,
    NotAGitRepositoryError,
    NotFoundError,
    OutputError,
    PushRejectedError,
    RepositoryError,
    RunExistsError,
    RunFinishedError,
    RunLockedError,
    StepOrderError,
    StorageError,
    TransportError,
    UsageError,
    VersionRemovedError,
)
from gittrack.storage.progress import report_to as _report_to


def _rich_bar(label: str, files: int, nbytes: int) -> Any:
    # Imported on the first batch, not with ``import gittrack`` (it brings threading).
    from gittrack.api.progress import rich_bar

    return rich_bar(label, files, nbytes)


# Transfers report progress to the storage layer; the bar is drawn here, above it, for commands
# and training scripts alike (``gittrack/api/progress.py``).
_report_to(_rich_bar)

if TYPE_CHECKING:  # what type checkers see; at run time ``__getattr__`` imports on first use
    from gittrack import plot as plot  # the module, as wandb.plot (not in __all__)
    from gittrack import tensorboard as tensorboard  # the module, as wandb.tensorboard
    from gittrack.api.public import Api
    from gittrack.api.session import (
        current_run,
        define_metric,
        finish,
        init,
        log,
        log_artifact,
        unwatch,
        use_artifact,
        watch,
    )
    from gittrack.artifacts.artifact import Artifact
    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.formats.histogram import Histogram
    from gittrack.formats.media.audio import Audio
    from gittrack.formats.media.image import Image
    from gittrack.formats.media.table import Table
    from gittrack.formats.media.text import Html, Text
    from gittrack.formats.media.video import Video
    from gittrack.plot import plot_table
    from gittrack.runs.info import RunInfo, RunState
    from gittrack.runs.live import Run
    from gittrack.runs.view import RunView
    from gittrack.settings import Settings

# Public name -> the module that defines it. Imported on first use (PEP 562), so that
# ``import gittrack`` and every ``gittrack`` command start without pygit2, YAML or the artifact
# machinery (see docs/decisions.md, "Start-up"). Keep in step with the block above.
_LAZY = {
    "Api": "gittrack.api.public",
    "Artifact": "gittrack.artifacts.artifact",
    "ArtifactVersion": "gittrack.artifacts.view",
    "Audio": "gittrack.formats.media.audio",
    "Histogram": "gittrack.formats.histogram",
    "Html": "gittrack.formats.media.text",
    "Image": "gittrack.formats.media.image",
    "Run": "gittrack.runs.live",
    "RunInfo": "gittrack.runs.info",
    "RunState": "gittrack.runs.info",
    "RunView": "gittrack.runs.view",
    "Settings": "gittrack.settings",
    "Table": "gittrack.formats.media.table",
    "Text": "gittrack.formats.media.text",
    "Video": "gittrack.formats.media.video",
    "current_run": "gittrack.api.session",
    "define_metric": "gittrack.api.session",
    "finish": "gittrack.api.session",
    "init": "gittrack.api.session",
    "log": "gittrack.api.session",
    "log_artifact": "gittrack.api.session",
    "plot_table": "gittrack.plot",
    "unwatch": "gittrack.api.session",
    "use_artifact": "gittrack.api.session",
    "watch": "gittrack.api.session",
}

__all__ = [
    "AmbiguousNameError",
    "Api",
    "Artifact",
    "ArtifactVersion",
    "Audio",
    "BlobNotFoundError",
    "ConflictError",
    "CryptoError",
    "DecryptionError",
    "DeletedOnRemoteError",
    "DivergedError",
    "FormatError",
    "GittrackError",
    "GittrackWarning",
    "Histogram",
    "Html",
    "Image",
    "InvalidKeyError",
    "InvalidSettingError",
    "InvalidValueError",
    "KeyMissingError",
    "NoActiveRunError",
    "NotAGitRepositoryError",
    "NotFoundError",
    "OutputError",
    "PushRejectedError",
    "RepositoryError",
    "Run",
    "RunExistsError",
    "RunFinishedError",
    "RunInfo",
    "RunLockedError",
    "RunState",
    "RunView",
    "Settings",
    "StepOrderError",
    "StorageError",
    "Table",
    "Text",
    "TransportError",
    "UsageError",
    "VersionRemovedError",
    "Video",
    "__version__",
    "current_run",
    "define_metric",
    "finish",
    "init",
    "log",
    "log_artifact",
    "plot_table",
    "unwatch",
    "use_artifact",
    "watch",
]


def __getattr__(name: str) -> Any:
    if name in ("plot", "tensorboard"):  # the modules, as wandb.plot and wandb.tensorboard
        return importlib.import_module(f"gittrack.{name}")
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups are plain attribute reads (``gittrack.log``)
        return value
    # ``gittrack.run`` is the active run (or None), like ``wandb.run``; ``gittrack.config`` and
    # ``gittrack.summary`` are its config and summary, like ``wandb.config``.
    if name in ("run", "config", "summary"):
        from gittrack.api.session import active_run, current_run

        if name == "run":
            return current_run()
        return getattr(active_run(f"gittrack.{name}"), name)
    raise AttributeError(f"module 'gittrack' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
