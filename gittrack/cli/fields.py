"""A run's fields as people read them: dotted keys, local times, plain cells."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gittrack.cli.columns import Cell
from gittrack.formats.display import format_value
from gittrack.runs.metadata import parse_iso


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
