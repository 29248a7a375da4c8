"""Output helpers shared by commands: values, durations, JSON for machines."""

from __future__ import annotations

import math
from typing import Any

from gittrack.formats.jsonio import json_dumps, json_safe
from gittrack.formats.values import readable

__all__ = ["dumps", "format_duration", "format_size", "json_safe", "printable"]

# Control characters other than newline and tab, DEL and the C1 range: an escape sequence in a
# run name from a remote could retitle or rewrite the terminal that prints it.
_UNPRINTABLE = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0)) if c not in (9, 10)}


def printable(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN``, so that printing stored data (which
    may come from a remote) cannot send the terminal escape sequences; and bytes of a local
    path that are not UTF-8 (lone surrogates, which a UTF-8 terminal's stream refuses) too."""
    return str(readable(text)).translate(_UNPRINTABLE)


def dumps(value: Any) -> str:
    return json_dumps(value, indent=2)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if not math.isfinite(seconds):  # a forged run.yaml: show it, never fail on it
        return str(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_size(nbytes: int | None) -> str:
    """``1.5 MB``: decimal units, as ``ls -h --si`` and most storage consoles show them."""
    if nbytes is None:
        return "-"
    size = float(nbytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
