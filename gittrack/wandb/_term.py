"""W&B's small helpers: ``termlog``/``termwarn``/``termerror``, ``login``, ``AlertLevel``."""

from __future__ import annotations

import enum
import sys
from typing import Any


class AlertLevel(str, enum.Enum):
    """``wandb.AlertLevel``: the level of ``wandb.alert``."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


def _silent() -> bool:
    import os

    return os.environ.get("WANDB_SILENT", "").lower() in ("true", "1") or os.environ.get(
        "GITTRACK_QUIET", "") not in ("", "0")


def termlog(string: str = "", newline: bool = True, repeat: bool = True,
            prefix: bool = True) -> None:
    """Print ``string`` to stderr with a ``gittrack:`` prefix (nothing if silent)."""
    _print(string, newline, prefix, "")


def termwarn(string: str, newline: bool = True, repeat: bool = True,
             prefix: bool = True) -> None:
    _print(string, newline, prefix, "WARNING ")


def termerror(string: str, newline: bool = True, repeat: bool = True,
              prefix: bool = True) -> None:
    _print(string, newline, prefix, "ERROR ", always=True)


def _print(string: str, newline: bool, prefix: bool, level: str, always: bool = False) -> None:
    if _silent() and not always:
        return
    head = f"gittrack: {level}" if prefix else ""
    text = "\n".join(head + line for line in str(string).split("\n"))
    sys.stderr.write(text + ("\n" if newline else ""))


def login(key: str | None = None, relogin: bool | None = None, host: str | None = None,
          force: bool | None = None, timeout: int | None = None, verify: bool = False,
          referrer: str | None = None, anonymous: Any = None, prompt: bool = True,
          **kwargs: Any) -> bool:
    """No-op (no network, no key stored): runs are local and shared with ``gittrack push``."""
    return True


def setup(settings: Any = None) -> None:
    """No-op: gittrack has no service process to start."""


def teardown(exit_code: int | None = None) -> None:
    """Finish the current run, as W&B's teardown does."""
    from gittrack.wandb._session import finish

    finish(exit_code=exit_code)
