"""A media value through its stored form, as a run stores and reads it (without a run):
``payloads`` → ``encode`` → ``decode``."""

from __future__ import annotations

from typing import Any

from gittrack.formats.media.base import Encoded, Payload, Stored, decode, encode


def stored(payload: Payload) -> tuple[Encoded, Stored]:
    """The encoded item and the index row a decoder gets for it."""
    item = encode(payload)
    row = Stored(payload.kind, item.format, item.width, item.height, item.length,
                 item.caption, dict(item.meta))
    return item, row


def round_trip(value: Any, key: str = "k") -> Any:
    """What reading back the last item of ``value`` logged under ``key`` gives."""
    item, row = stored(value.payloads(key)[-1])
    return decode(item.data, row)


def items(value: Any, key: str = "k") -> list[Any]:
    """Every item of ``value`` read back, in the order logged."""
    decoded = []
    for payload in value.payloads(key):
        item, row = stored(payload)
        decoded.append(decode(item.data, row))
    return decoded


__all__ = ["items", "round_trip", "stored"]
