"""gittrack: experiment tracking whose runs are commits in your own git repository.

>>> import gittrack                                                      # doctest: +SKIP
>>> with gittrack.init(project="demo", config={"lr": 0.01}) as run:     # doctest: +SKIP
...     for step in range(100):
...         run.log({"loss": 1 / (step + 1)})
"""

from __future__ import annotations

from typing import Any

from gittrack._version import __version__
from gittrack.api.public import Api
from gittrack.api.session import (
    current_run,
    define_metric,
    finish,
    init,
    log,
    log_artifact,
    use_artifact,
)
from gittrack.artifacts.artifact import Artifact
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import (
    AmbiguousNameError,
    BlobNotFoundError,
    ConflictError,
    CryptoError,
    DecryptionError,
    FormatError,
    GittrackError,
    GittrackWarning,
    InvalidKeyError,
    InvalidSettingError,
    InvalidValueError,
    KeyMissingError,
    NotAGitRepositoryError,
    NotFoundError,
    RepositoryError,
    RunExistsError,
    RunFinishedError,
    RunLockedError,
    StepOrderError,
    StorageError,
    UsageError,
)
from gittrack.formats.histogram import Histogram
from gittrack.runs.live import Run
from gittrack.runs.view import RunView
from gittrack.settings import Settings

__all__ = [
    "AmbiguousNameError",
    "Api",
    "Artifact",
    "ArtifactVersion",
    "BlobNotFoundError",
    "ConflictError",
    "CryptoError",
    "DecryptionError",
    "FormatError",
    "GittrackError",
    "GittrackWarning",
    "Histogram",
    "InvalidKeyError",
    "InvalidSettingError",
    "InvalidValueError",
    "KeyMissingError",
    "NotAGitRepositoryError",
    "NotFoundError",
    "RepositoryError",
    "Run",
    "RunExistsError",
    "RunFinishedError",
    "RunLockedError",
    "RunView",
    "Settings",
    "StepOrderError",
    "StorageError",
    "UsageError",
    "__version__",
    "current_run",
    "define_metric",
    "finish",
    "init",
    "log",
    "log_artifact",
    "use_artifact",
]


def __getattr__(name: str) -> Any:
    # ``gittrack.run`` is the active run (or None), like ``wandb.run``; ``gittrack.config`` and
    # ``gittrack.summary`` are its config and summary, like ``wandb.config``.
    if name == "run":
        return current_run()
    if name in ("config", "summary"):
        active = current_run()
        if active is None:
            raise GittrackError(f"gittrack.{name} is used before gittrack.init()")
        return getattr(active, name)
    raise AttributeError(f"module 'gittrack' has no attribute {name!r}")
