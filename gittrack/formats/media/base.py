"""The protocol of a media type: validated and captured on the caller's thread, encoded later.

``log({"examples": [Image(a), Image(b)]})`` asks each value for its ``payloads(key)``: checks
that raise ``InvalidValueError`` naming the key before anything of the call is recorded, then
the raw bytes the encoder needs (a copy of an array's buffer, a file's bytes) and a small spec
(shape, dtype, caption, fps...). The run writes every payload to its spool before ``log()``
returns (durable like a scalar); encoding (PNG, video) happens in the checkpoint thread, or in
recovery after ``kill -9``, by ``encode(payload)``, a pure function of the payload. The encoded
bytes become a blob of the project's store; the run's media index lists it
(``docs/format.md``, "Media"). ``decode`` rebuilds a value from those bytes and the index row.

A type registers its encoder and decoder under its ``kind`` with ``register``; the registry is
filled by importing ``gittrack.formats.media.types`` (every built-in type).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from gittrack.errors import FormatError


@dataclasses.dataclass(frozen=True, slots=True)
class Payload:
    """One media item as ``log()`` keeps it: ``raw`` is written to the run's spool before
    ``log()`` returns; ``spec`` (JSON-able: str, int, float, bool, None, lists, dicts) goes
    into the write-ahead log record and must be enough, with ``raw``, to encode the item."""

    kind: str
    raw: bytes | memoryview
    spec: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Encoded:
    """One media item as stored: ``data`` becomes a blob; the rest goes into its index row."""

    data: bytes
    format: str
    """The file extension of ``data`` without the dot: png, jpg, gif, mp4, wav, txt, html,
    parquet, json..."""
    width: int | None = None
    height: int | None = None
    length: float | None = None
    """Frames of a video, seconds of audio, rows of a table; ``None`` for others."""
    caption: str | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """JSON-able data kept beside the bytes (a table's columns, a chart's Vega-Lite spec,
    the names and counts of an image's boxes and masks), stored as JSON in the index row's
    ``meta``: in git, in plain text, so never content (an image's boxes and masks are an item
    of their own, ``image-annotations``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    """What a decoder gets of one index row, besides the blob's bytes."""

    kind: str
    format: str
    width: int | None
    height: int | None
    length: float | None
    caption: str | None
    meta: Mapping[str, Any]


class Media:
    """Base class of the media types (``gittrack.Image``, ``Video``, ``Audio``, ...)."""

    kind: ClassVar[str] = ""

    def payloads(self, key: str) -> list[Payload]:
        """The items to store for this value under ``key``; ``InvalidValueError`` naming
        ``key`` and what was expected if the value cannot be stored."""
        raise NotImplementedError


Encoder = Callable[[Payload], Encoded]
Decoder = Callable[[bytes, Stored], Any]

_ENCODERS: dict[str, Encoder] = {}
_DECODERS: dict[str, Decoder] = {}
_PARTS: set[str] = set()


def register(kind: str, encoder: Encoder, decoder: Decoder, *, part: bool = False) -> None:
    """``part``: an item of this kind is part of another item of its entry (an image's
    annotations), put back in it on reading (``table.gather``): not a value of its own."""
    _ENCODERS[kind] = encoder
    _DECODERS[kind] = decoder
    if part:
        _PARTS.add(kind)


def is_part(kind: str) -> bool:
    """Whether items of ``kind`` are part of another item (``register(part=True)``): what
    ``show --media`` does not count as values."""
    if kind not in _ENCODERS:
        _load()
    return kind in _PARTS


def _load() -> None:
    import gittrack.formats.media.types  # noqa: F401  (registers every built-in type)


def encode(payload: Payload) -> Encoded:
    """The stored form of ``payload`` (in the checkpoint thread, or in recovery)."""
    if payload.kind not in _ENCODERS:
        _load()
    try:
        encoder = _ENCODERS[payload.kind]
    except KeyError:
        raise FormatError(f"unknown media type {payload.kind!r}") from None
    return encoder(payload)


def decode(data: bytes, stored: Stored) -> Any:
    """The value an index row and its blob's bytes stand for (``Run.media(key)``); a type
    this gittrack does not know is given as its bytes."""
    if stored.kind not in _DECODERS:
        _load()
    decoder = _DECODERS.get(stored.kind)
    return data if decoder is None else decoder(data, stored)
