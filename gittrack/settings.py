"""Per-run settings: ``gittrack.init(settings={...})`` or ``settings=gittrack.Settings(...)``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from gittrack.errors import InvalidSettingError

Console = Literal["auto", "wrap", "redirect", "off", "wrap_raw", "wrap_emu"]
CONSOLE_MODES = ("auto", "wrap", "redirect", "off", "wrap_raw", "wrap_emu")
CONSOLE_ENV = "GITTRACK_CONSOLE"

OutOfOrder = Literal["warn", "raise"]
Reinit = Literal["finish_previous", "create_new", "return_previous"]

_REINIT_ALIASES: dict[object, Reinit] = {True: "finish_previous", False: "finish_previous"}


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """How a run behaves.

    - ``checkpoint_interval``: seconds between background checkpoints (commits) of a live run.
    - ``checkpoint_rows``: also checkpoint once this many steps are buffered (bounds memory).
    - ``out_of_order``: a step lower than the current one is kept and warned about once
      (``"warn"``) or refused with ``StepOrderError`` (``"raise"``).
    - ``reinit``: what ``init()`` does while another run of this process is active:
      ``"finish_previous"`` (default), ``"create_new"`` (both stay active) or
      ``"return_previous"``.
    - ``quiet``: print nothing to stderr at ``init`` and ``finish``.
    - ``save_code``: save the uncommitted changes, the entry point and the installed packages
      as blobs (docs/code.md); ``None`` (default): as ``GITTRACK_SAVE_CODE`` or the project's
      ``save_code:`` say, else off. ``init(save_code=...)`` sets it too.
    - ``console``: capture what the process prints to stdout and stderr (``"auto"``, the
      default, ``"wrap"``, ``"redirect"``; W&B's names) or not (``"off"``); the environment
      variable ``GITTRACK_CONSOLE`` sets the default. ``console_max_bytes``: stop storing the
      output of this process after that many bytes, with a note (default: no limit).
      See docs/console.md.
    - ``system_metrics``: sample CPU, memory, disk, network and GPUs in a thread
      (docs/system.md); ``False`` (or W&B's ``x_disable_stats=True``, or the environment
      variable ``GITTRACK_SYSTEM_METRICS=0``) turns it off.
    - ``system_interval``: seconds between samples (W&B's ``x_stats_sampling_interval``).
    """

    checkpoint_interval: float = 10.0
    checkpoint_rows: int = 20_000
    out_of_order: OutOfOrder = "warn"
    reinit: Reinit = "finish_previous"
    quiet: bool = False
    save_code: bool | None = None
    console: Console = dataclasses.field(default_factory=lambda: _console_default())
    console_max_bytes: int | None = None
    system_metrics: bool = True
    system_interval: float = 15.0
    # W&B's names for the two above, accepted as they are (not kept: read the fields)
    x_disable_stats: dataclasses.InitVar[bool | None] = None
    x_stats_sampling_interval: dataclasses.InitVar[float | None] = None
    _disable_stats: dataclasses.InitVar[bool | None] = None  # older W&B spellings
    _stats_sample_rate_seconds: dataclasses.InitVar[float | None] = None

    def __post_init__(
        self, x_disable_stats: bool | None, x_stats_sampling_interval: float | None,
        _disable_stats: bool | None, _stats_sample_rate_seconds: float | None,
    ) -> None:
        _system_settings(self, _given(x_disable_stats=x_disable_stats,
                                      _disable_stats=_disable_stats),
                         _given(x_stats_sampling_interval=x_stats_sampling_interval,
                                _stats_sample_rate_seconds=_stats_sample_rate_seconds))
        if not isinstance(self.checkpoint_interval, (int, float)) or isinstance(
            self.checkpoint_interval, bool
        ) or not self.checkpoint_interval > 0:
            raise InvalidSettingError(
                f"checkpoint_interval must be > 0 seconds, got {self.checkpoint_interval!r}"
            )
        if type(self.checkpoint_rows) is not int or self.checkpoint_rows < 1:
            raise InvalidSettingError(
                f"checkpoint_rows must be >= 1, got {self.checkpoint_rows!r}"
            )
        if self.save_code is not None and not isinstance(self.save_code, bool):
            raise InvalidSettingError(
                f"save_code must be True, False or None, got {self.save_code!r}"
            )
        if self.out_of_order not in ("warn", "raise"):
            raise InvalidSettingError(
                f"out_of_order must be 'warn' or 'raise', got {self.out_of_order!r}"
            )
        if self.reinit not in ("finish_previous", "create_new", "return_previous"):
            raise InvalidSettingError(
                "reinit must be 'finish_previous', 'create_new' or 'return_previous', "
                f"got {self.reinit!r}"
            )

        if self.console not in CONSOLE_MODES:
            raise InvalidSettingError(
                f"console must be one of {', '.join(map(repr, CONSOLE_MODES))}, "
                f"got {self.console!r}"
            )
        if self.console_max_bytes is not None and (
                type(self.console_max_bytes) is not int or self.console_max_bytes < 0):
            raise InvalidSettingError(
                f"console_max_bytes must be None or an int >= 0, got {self.console_max_bytes!r}"
            )

    @classmethod
    def from_any(cls, value: Settings | Mapping[str, Any] | None) -> Settings:
        """Accept a ``Settings``, a mapping of its fields, or ``None`` for the defaults."""
        if value is None:
            return cls()
        if isinstance(value, Settings):
            return value
        if not isinstance(value, Mapping):
            raise InvalidSettingError(
                f"settings must be a gittrack.Settings or a dict, got {type(value).__name__}"
            )
        known = {f.name for f in dataclasses.fields(cls)} | set(_WANDB_NAMES)
        unknown = sorted(set(value) - known)
        if unknown:
            raise InvalidSettingError(
                f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}"
            )
        fields = dict(value)
        if "reinit" in fields and isinstance(fields["reinit"], bool):
            fields["reinit"] = _REINIT_ALIASES[fields["reinit"]]
        try:
            return cls(**fields)
        except TypeError as exc:  # e.g. a string where a number belongs
            raise InvalidSettingError(f"invalid settings: {exc}") from None


def _console_default() -> Console:
    """``console``'s default: ``GITTRACK_CONSOLE`` if set (``off``, or ``0``/``false``/``no``,
    turns capture off; ``1``/``true``/``yes``/``on`` mean ``auto``), else ``"auto"``."""
    import os

    value = os.environ.get(CONSOLE_ENV, "").strip().lower()
    value = {"0": "off", "false": "off", "no": "off", "1": "auto", "true": "auto", "yes": "auto",
             "on": "auto"}.get(value, value)
    if not value:
        return "auto"
    if value not in CONSOLE_MODES:
        raise InvalidSettingError(
            f"{CONSOLE_ENV} must be one of {', '.join(CONSOLE_MODES)}, got {value!r}")
    return value  # type: ignore[return-value]

MIN_SYSTEM_INTERVAL = 0.01
_WANDB_NAMES = ("x_disable_stats", "x_stats_sampling_interval", "_disable_stats",
                "_stats_sample_rate_seconds")
"""W&B's names of ``system_metrics`` (negated) and ``system_interval``, accepted as given."""
_ENV_SYSTEM = "GITTRACK_SYSTEM_METRICS"
_FLAGS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}
Given = tuple[str, Any] | None


def _given(**names: Any) -> Given:
    """The first of W&B's spellings of one setting that was given: ``(name, value)``."""
    return next(((name, value) for name, value in names.items() if value is not None), None)


def _system_settings(settings: Settings, disable: Given, interval: Given) -> None:
    """Checks ``system_metrics`` and ``system_interval``, after applying W&B's names (either
    turning system metrics off is enough)."""
    if disable is not None:
        name, value = disable
        if not isinstance(value, bool):
            raise InvalidSettingError(f"{name} must be True or False, got {value!r}")
        object.__setattr__(settings, "system_metrics", settings.system_metrics and not value)
    if not isinstance(settings.system_metrics, bool):
        raise InvalidSettingError(
            f"system_metrics must be True or False, got {settings.system_metrics!r}")
    name, value = interval or ("system_interval", settings.system_interval)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            MIN_SYSTEM_INTERVAL <= value < float("inf")):
        raise InvalidSettingError(
            f"{name} must be a number of seconds >= {MIN_SYSTEM_INTERVAL}, got {value!r}")
    object.__setattr__(settings, "system_interval", float(value))


def system_metrics_enabled(settings: Settings, environ: Mapping[str, str]) -> bool:
    """Whether a run samples system metrics: its setting, unless ``GITTRACK_SYSTEM_METRICS``
    says 0 (either turning it off is enough)."""
    raw = environ.get(_ENV_SYSTEM, "").strip().lower()
    if raw and raw not in _FLAGS:
        raise InvalidSettingError(
            f"{_ENV_SYSTEM} must be 0 or 1 (or true/false, yes/no, on/off), got {raw!r}")
    return settings.system_metrics and _FLAGS.get(raw, True)
