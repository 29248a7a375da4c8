"""YAML as gittrack writes and reads it: block style, unicode, insertion order, libyaml."""

from __future__ import annotations

from typing import Any

import yaml

from gittrack.errors import FormatError

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump(data: Any) -> bytes:
    text = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
        width=100,
    )
    return text.encode("utf-8")


def load(raw: bytes | str, *, what: str = "YAML") -> Any:
    try:
        return yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise FormatError(f"cannot read {what}: {exc}") from None
