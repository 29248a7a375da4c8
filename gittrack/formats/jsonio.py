"""Strict JSON for people's tools: NaN and infinities spelled as strings, unicode kept."""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe(value: Any) -> Any:
    """NaN and ±inf as the strings "NaN", "Infinity", "-Infinity" (strict JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def json_dumps(value: Any, indent: int | None = None) -> str:
    """Strict JSON; the fast path skips ``json_safe`` when every float is finite."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent,
                          default=str)
    except ValueError:
        return json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False,
                          indent=indent, default=str)
