"""What the integrations share: framework objects as config values, runs they start and end,
and model files as artifacts."""

from __future__ import annotations

import dataclasses
import inspect
import numbers
import os
import warnings
from argparse import Namespace
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gittrack.errors import GittrackWarning, UsageError

if TYPE_CHECKING:
    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.runs.live import Run

_MAX_DEPTH = 16  # deeper than any framework's config; a loop that contains itself ends here


def require(module: str, extra: str) -> Any:
    """``import module``, or a ``UsageError`` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(
            f"gittrack.integrations.{extra} needs {module.split('.')[0]}: "
            f"pip install 'gittrack[{extra}]' ({exc})"
        ) from None


def plain_config(value: Any, depth: int = 0) -> Any:
    """``value`` as config data, as W&B stores a framework's hyperparameters: namespaces and
    dataclasses as dicts, numbers and strings as they are, callables and classes by name,
    anything else as its ``str`` (a ``torch.device`` is ``"cpu"``)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return int(value) if isinstance(value, numbers.Integral) else float(value)  # type: ignore[arg-type]
    if depth >= _MAX_DEPTH:
        return str(value)
    if isinstance(value, Namespace):
        value = vars(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain_config(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_config(v, depth + 1) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, type) or inspect.isroutine(value):
        return getattr(value, "__name__", None) or str(value)
    item = getattr(value, "item", None)  # a 0-d tensor or numpy scalar
    if callable(item) and getattr(value, "ndim", None) == 0:
        return plain_config(item(), depth + 1)
    return str(value)


def init_arguments(kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The keywords of ``kwargs`` that ``gittrack.init`` takes; the others are W&B's (``entity``,
    ``anonymous``...): ignored, with one warning naming them."""
    from gittrack.api.session import init

    known = set(inspect.signature(init).parameters)
    unknown = sorted(k for k in kwargs if k not in known)
    if unknown:
        warnings.warn(f"gittrack: {where} ignores {', '.join(unknown)} (no meaning here)",
                      GittrackWarning, stacklevel=3)
    return {k: v for k, v in kwargs.items() if k in known}


def start_run(kwargs: Mapping[str, Any], where: str) -> tuple[Run, bool]:
    """The active run if there is one (as W&B's integrations reuse ``wandb.run``), else a new
    one from ``gittrack.init(**kwargs)``; and whether it was started here (then the
    integration finishes it)."""
    from gittrack.api.session import current_run, init

    run = current_run()
    if run is not None:
        return run, False
    return init(**init_arguments(kwargs, where)), True


class RunHolder:
    """The run an integration records to: the active run if there is one (left open), else
    one it starts from ``gittrack.init(**kwargs)`` on first use and finishes when training
    ends. Used again after that (``evaluate()`` after ``fit()``), it continues the same run
    (``resume="must"``)."""

    def __init__(self, kwargs: Mapping[str, Any], where: str, run: Run | None = None) -> None:
        self.kwargs = dict(kwargs)
        self.where = where
        self.run = run
        self.owned = False

    def get(self) -> Run:
        from gittrack.runs.info import RunState

        if self.run is not None and self.owned and self.run.state != RunState.RUNNING:
            self.kwargs.update(id=self.run.id, resume="must")
            self.run = None
        if self.run is None:
            self.run, self.owned = start_run(self.kwargs, self.where)
        return self.run

    def finish(self, exit_code: int = 0) -> None:
        """Finish the run if it was started here (a run the user started stays open)."""
        if self.run is not None and self.owned:
            self.run.finish(exit_code=exit_code)

    def detach(self) -> None:
        """Finish and forget the run: the next ``get()`` starts a new one."""
        self.finish()
        self.run = None
        self.kwargs.pop("id", None)
        self.kwargs.pop("resume", None)


def step_for(run: Run, step: int | None) -> int | None:
    """The step to log a framework's ``step`` at: itself, unless the run is already past it
    (a run continued after the training that logged that step: ``evaluate()`` after
    ``train()``), then the run's next step (the framework's step stays in its own column)."""
    return step if step is None or step >= run.step else None


def log_model_files(run: Run, name: str, files: Iterable[tuple[str, str]],
                    aliases: Iterable[str], metadata: Mapping[str, Any] | None = None,
                    ) -> ArtifactVersion:
    """Log ``files`` (``(path on disk, name in the artifact)``) as a version of the ``model``
    artifact ``name``, with ``aliases`` (``latest`` always)."""
    from gittrack.artifacts.artifact import Artifact

    art = Artifact(name, type="model", metadata=plain_config(dict(metadata or {})))
    for path, stored in files:
        if os.path.isdir(path):
            art.add_dir(path, name=stored or None)
        else:
            art.add_file(path, name=stored)
    return run.log_artifact(art, aliases=list(dict.fromkeys(["latest", *aliases])))


def artifact_name(text: str) -> str:
    """``text`` as a valid artifact name (letters, digits, ``.``, ``_``, ``-``)."""
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "-" for c in text)
    while ".." in cleaned:
        cleaned = cleaned.replace("..", ".")
    return cleaned.strip("._-")[:128].rstrip("._-") or "model"
