"""Values as the tests expect them stored: nested keys flattened, columns widened, and text
or nesting a run cannot store."""

from __future__ import annotations

from typing import Any

SURROGATE = "caf\udce9.txt"  # os.listdir of a latin-1 file name on a UTF-8 system


def deep(levels: int, leaf: Any = 1) -> Any:
    """``leaf`` nested ``levels`` dicts deep."""
    value = leaf
    for _ in range(levels):
        value = {"k": value}
    return value


def flatten(data: dict[str, Any], prefix: str = "", *, drop_none: bool = False) -> dict[str, Any]:
    """Nested dicts as ``a/b`` keys; ``drop_none``: ``None`` is no value, as ``log()`` takes it.
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}/", drop_none=drop_none))
        elif value is not None or not drop_none:
            out[f"{prefix}{key}"] = value
    return out


def widened(values: list[Any]) -> list[Any]:
    """How a column comes back: bool < int < float widened within the chunk."""
    present = [v for v in values if v is not None]
    if any(isinstance(v, float) for v in present):
        return [None if v is None else float(v) for v in values]
    if any(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return [None if v is None else int(v) for v in values]
    return values
