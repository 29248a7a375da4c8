"""YAML as gittrack writes and reads it: block style, unicode, insertion order, libyaml."""

from __future__ import annotations

import functools
from typing import Any

from gittrack.errors import FormatError

# PyYAML is imported on first use: commands that only move refs (a no-op push or pull) never
# read YAML, and start faster without it (docs/decisions.md, "Start-up").


@functools.cache
def _codec() -> tuple[Any, Any]:
    """``(dumper, loader)``: libyaml's when PyYAML was built with it."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return dumper, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump(data: Any) -> bytes:
    import yaml

    text = yaml.dump(
        data, Dumper=_codec()[0], sort_keys=False, allow_unicode=True, default_flow_style=False,
        width=100,
    )
    return text.encode("utf-8")


def load(raw: bytes | str, *, what: str = "YAML") -> Any:
    import yaml

    try:
        return yaml.load(raw, Loader=_codec()[1])
    except yaml.YAMLError as exc:
        raise FormatError(f"cannot read {what}: {exc}") from None
