"""A run's fields as people read them: dotted keys, local times, plain cells."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from gittrack.cli.columns import Cell
from gittrack.cli.render import format_value
from gittrack.runs.metadata import parse_iso


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (``optimizer.lr``); histograms and lists stay whole."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and "_type" not in value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def local_time(iso: Any, *, seconds: bool = False) -> str:
    """``2026-11-26 17:46`` in the local time zone, from the UTC text stored in ``run.yaml``."""
    if not iso:
        return "-"
    try:
        moment = dt.datetime.fromtimestamp(parse_iso(str(iso)))
    except (ValueError, OverflowError, OSError):
        return str(iso)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def cell(value: Any) -> Cell:
    """A value as a table cell; a missing one is a dim dash."""
    if value is None:
        return ("-", "dim")
    return (format_value(value), None)
