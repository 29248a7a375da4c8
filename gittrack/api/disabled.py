"""A run that records nothing: ``init(mode="disabled")`` or ``GITTRACK_MODE=disabled``.

Every call is a cheap no-op that returns something a training script can keep using, as
W&B's disabled mode does: ``run.config`` and ``run.summary`` are plain dicts that also take
attribute access, ``log`` does nothing, ``finish`` works, ``id`` and ``name`` exist. Nothing
is read from or written to git (no repository is needed at all).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from types import TracebackType
from typing import Any

MODES = ("online", "offline", "disabled", "shared")
"""W&B's ``mode`` values: ``disabled`` records nothing; the others record as usual (gittrack
is always local: nothing is sent until ``gittrack push``)."""
MODE_ENV = "GITTRACK_MODE"


class AttrDict(dict[str, Any]):
    """A dict whose keys are attributes too (``config.lr``), with W&B's config methods."""

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        self.pop(key, None)

    def update(self, other: Any = (), /, allow_val_change: bool | None = None,
               **kwargs: Any) -> None:
        if other is not None and not isinstance(other, (dict, list, tuple)) and hasattr(
                other, "__dict__"):
            other = {k: v for k, v in vars(other).items() if not k.startswith("_")}
        super().update(other or (), **kwargs)

    def setdefaults(self, other: Any) -> None:
        for key, value in dict(other).items():
            self.setdefault(key, value)

    def as_dict(self) -> dict[str, Any]:
        return dict(self)

    @property
    def _json_dict(self) -> dict[str, Any]:
        return dict(self)


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


class DisabledRun:
    """What ``init`` returns in disabled mode. Unknown methods are no-ops returning ``None``."""

    disabled = True
    offline = True
    mode = "disabled"

    def __init__(self, name: str | None = None, project: str | None = None,
                 config: Any = None, id: str | None = None, tags: Any = None,
                 notes: str | None = None, group: str | None = None,
                 job_type: str | None = None) -> None:
        self.id = id or "dummy-" + secrets.token_hex(4)
        self.name = name or self.id
        self.project = project or "disabled"
        self.entity = ""
        self.group = group or ""
        self.job_type = job_type or ""
        self.notes = notes or ""
        self.tags = tuple(tags or ())
        self.config = AttrDict()
        self.config.update(config)
        self.summary = AttrDict()
        self.step = 0
        self.dir = os.getcwd()
        self.url = None
        self.path = f"disabled/{self.project}/{self.id}"
        self.resumed = False
        self.sweep_id = None
        self._finished = False

    @property
    def display_name(self) -> str:
        return self.name

    def log(self, data: Any = None, step: int | None = None, commit: bool | None = None,
            **kwargs: Any) -> None:
        return None

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        self._finished = True

    def define_metric(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def save(self, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def use_artifact(self, artifact: Any, *args: Any, **kwargs: Any) -> Any:
        return artifact

    def log_artifact(self, artifact: Any, *args: Any, **kwargs: Any) -> Any:
        return artifact

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)
        return _noop

    def __enter__(self) -> DisabledRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.finish()

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<gittrack.DisabledRun {self.name!r} id={self.id}>"


def disabled_by(mode: str | None, env: tuple[str, ...] = (MODE_ENV,)) -> bool:
    """Whether ``mode`` (or, without one, any of the variables ``env``) says ``disabled``;
    ``InvalidSettingError`` for a mode that is not W&B's. A variable switching recording off
    wins over another saying ``offline``: a run the user switched off is never recorded."""
    from gittrack.errors import InvalidSettingError

    if mode is not None:
        if mode not in MODES:
            raise InvalidSettingError(
                f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
        return mode == "disabled"
    return any(os.environ.get(var, "").strip().lower() == "disabled" for var in env)
