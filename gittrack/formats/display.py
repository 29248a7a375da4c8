"""Stored values as people read them: nested keys dotted, numbers told from bools, short text.

One owner for what every reader shows (the command line, a diff, a future web page), so a
value reads the same wherever it is printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (``optimizer.lr``); lists, histograms and empty dicts stay
    whole values."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and "_type" not in value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def is_number(value: Any) -> TypeGuard[int | float]:
    """An ``int`` or a ``float``, not a ``bool`` (which Python counts as an ``int``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value: Any) -> TypeGuard[int]:
    """An ``int``, not a ``bool`` (YAML's ``true`` is one to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def format_value(value: Any) -> str:
    """A value as one short text: ``true``, ``0.123457``, ``histogram[10]``, ``a=1, b=2``."""
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict) and value.get("_type") == "histogram":
        return f"histogram[{len(value.get('values', []))}]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    return str(value)
