"""Framing of write-ahead-log records: ``<u32 length><u32 crc32><payload>``.

The payload is a pickle of plain data only (tuples, lists, dicts, str, numbers, bool, None,
and ``Histogram``):
about 1 µs per ``log()`` call, where JSON costs 9 µs. The unpickler refuses every other global, so
a WAL file cannot run code. A record cut short by a kill ends the readable log: a
``log()`` call returns only after its whole record was handed to the kernel, so a torn last
record is one that was never acknowledged.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib
from collections.abc import Iterator
from typing import Any

_HEADER = struct.Struct("<II")
HEADER_SIZE = _HEADER.size
_PROTOCOL = 5
_PICKLE_START = pickle.PROTO + bytes([_PROTOCOL])


def encode(record: Any) -> bytes:
    payload = pickle.dumps(record, protocol=_PROTOCOL)
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def put(buffer: Any, pos: int, limit: int, record: Any) -> int | None:
    """Write ``record``'s frame (the bytes ``encode`` makes) into the writable ``buffer`` at
    ``pos``, without joining header and payload first; the offset just after it, or ``None``
    (nothing written) if it would end past ``limit``."""
    payload = pickle.dumps(record, protocol=_PROTOCOL)
    end = pos + _HEADER.size + len(payload)
    if end > limit:
        return None
    _HEADER.pack_into(buffer, pos, len(payload), zlib.crc32(payload))
    buffer[pos + _HEADER.size:end] = payload
    return end


_ALLOWED = {("gittrack.formats.histogram", "Histogram")}


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"WAL records hold plain data only, not {module}.{name}")


def decode_at(data: bytes | memoryview, pos: int) -> tuple[Any, int] | None:
    """The intact record starting at ``pos`` and the offset just after it; ``None`` if the
    bytes there are not one (torn, damaged, zeros)."""
    view = memoryview(data)
    if pos + _HEADER.size > len(view):
        return None
    length, crc = _HEADER.unpack_from(view, pos)
    start = pos + _HEADER.size
    end = start + length
    # Every payload is a protocol-5 pickle: checking its first two bytes before the CRC keeps
    # a scan through damaged bytes fast.
    if length < 2 or end > len(view) or view[start:start + 2] != _PICKLE_START:
        return None
    payload = view[start:end]
    if zlib.crc32(payload) != crc:
        return None
    try:
        return _PlainUnpickler(io.BytesIO(payload)).load(), end
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None


def declared_end(data: bytes, pos: int) -> int | None:
    """Where the record whose header is at ``pos`` says it ends; ``None``: no whole header."""
    if pos + _HEADER.size > len(data):
        return None
    length, _ = _HEADER.unpack_from(data, pos)
    return pos + _HEADER.size + int(length)


def scan(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(start, end, record)`` for every intact record in ``data``, in order. After bytes that
    are not a record, the scan goes on at the next offset where an intact record starts; the
    caller sees the skipped bytes as the gap between one record's end and the next's start."""
    pos = 0
    while pos + _HEADER.size <= len(data):
        found = decode_at(data, pos)
        if found is None:
            pos = _next_candidate(data, pos + 1)
            continue
        record, end = found
        yield pos, end, record
        pos = end


def _next_candidate(data: bytes, pos: int) -> int:
    """The next offset from ``pos`` that may start a record (its payload starts a pickle)."""
    hit = data.find(_PICKLE_START, pos + _HEADER.size)
    return len(data) if hit < 0 else hit - _HEADER.size


def decode_all(data: bytes) -> Iterator[Any]:
    """Every whole, intact record in ``data``, stopping at the first torn or damaged one."""
    view = memoryview(data)
    pos = 0
    while pos + _HEADER.size <= len(view):
        length, crc = _HEADER.unpack_from(view, pos)
        if length == 0:  # the zeroed, unused end of a pre-sized segment
            return
        start = pos + _HEADER.size
        end = start + length
        if end > len(view):
            return
        payload = view[start:end]
        if zlib.crc32(payload) != crc:
            return
        try:
            yield _PlainUnpickler(io.BytesIO(payload)).load()
        except (pickle.UnpicklingError, EOFError, ValueError):
            return
        pos = end
