"""``wandb.Settings``: accepts every keyword W&B's does; the ones with a meaning here become
``gittrack.Settings`` fields, the rest are kept (readable back) and change nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

# W&B setting -> gittrack.Settings field (same meaning)
_FIELDS = {
    "save_code": "save_code",
    "console": "console",
    "x_disable_stats": "x_disable_stats",
    "_disable_stats": "_disable_stats",
    "x_stats_sampling_interval": "x_stats_sampling_interval",
    "_stats_sample_rate_seconds": "_stats_sample_rate_seconds",
    "quiet": "quiet",
    "silent": "quiet",
    "reinit": "reinit",
}
_CONSOLE = {"auto", "wrap", "redirect", "off", "wrap_raw", "wrap_emu"}


class Settings:
    """``wandb.Settings(...)``: any keyword. ``mode``, ``save_code``, ``console``,
    ``x_disable_stats``, ``x_stats_sampling_interval``, ``quiet``/``silent`` and ``reinit``
    are used; ``init(settings=...)`` also takes a dict of them or a ``gittrack.Settings``."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None  # a W&B setting never set reads as None here

    def update(self, settings: Any = None, **kwargs: Any) -> None:
        self.__dict__.update(as_mapping(settings), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def as_mapping(settings: Any) -> dict[str, Any]:
    """The keywords of a ``Settings``, a dict, a ``gittrack.Settings`` or W&B's own."""
    if settings is None:
        return {}
    if isinstance(settings, Mapping):
        return dict(settings)
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    if isinstance(settings, Settings):
        return settings.to_dict()
    dump = getattr(settings, "model_dump", None)  # wandb.Settings itself (pydantic)
    if callable(dump):  # what the script set, not W&B's defaults (mode="online" ...)
        return {k: v for k, v in dump(exclude_unset=True).items() if v is not None}
    return {k: v for k, v in vars(settings).items() if not k.startswith("__")}


def gittrack_fields(settings: Any) -> dict[str, Any]:
    """The ``gittrack.Settings`` fields that W&B settings (or gittrack's own) set."""
    from gittrack.settings import Settings as Native

    given = as_mapping(settings)
    native = {f.name for f in dataclasses.fields(Native)}
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key in native and not (key in _FIELDS and value is None):
            out[key] = value
        elif key in _FIELDS and value is not None:
            out[_FIELDS[key]] = value
    if out.get("console") not in (None, *_CONSOLE):
        out.pop("console")  # W&B's own other values ("off" aside) mean its defaults
    if isinstance(out.get("reinit"), str) and out["reinit"] == "default":
        out.pop("reinit")
    if "reinit" in out and isinstance(out["reinit"], bool):
        out["reinit"] = "finish_previous" if out["reinit"] else "return_previous"
    for key in ("quiet", "save_code"):
        if key in out and not isinstance(out[key], bool):
            out[key] = bool(out[key])
    return out
