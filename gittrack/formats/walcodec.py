"""Framing of write-ahead-log records: ``<u32 length><u32 crc32><payload>``.

Two kinds of payload:

- a pickle of plain data only (tuples, lists, dicts, str, numbers, bool, None, and
  ``Histogram``): any record. The unpickler refuses every other global, so a WAL file cannot
  run code.
- a *row*: a ``log()`` call whose values are all floats, packed with ``struct``
  (``<B kind=1><u32 keys id><i64 seq><f64 time><i64 step, -1: none><f64 value>...``), half
  the cost of pickling it (docs/decisions.md, "The hot path: rows packed in the log"). Its
  keys are those of a ``("keys", seq, id, (key, ...))`` record written before it in the same
  segment (``Decoder`` reads them); a row reads back as the record
  ``("log", seq, time, step, None, {key: value})``.

A record cut short by a kill ends the readable log: a ``log()`` call returns only after its
whole record was handed to the kernel, so a torn last record is one that was never
acknowledged.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

_HEADER = struct.Struct("<II")
HEADER_SIZE = _HEADER.size
_PROTOCOL = 5
_PICKLE_START = pickle.PROTO + bytes([_PROTOCOL])
KEYS = "keys"
"""The kind of the record that names the keys of the rows after it (never applied to a run)."""
_ROW = 1
_ROW_START = bytes([_ROW])
_ROW_HEAD = struct.Struct("<BIqdq")
_rows: dict[int, struct.Struct] = {}


def _row_struct(width: int) -> struct.Struct:
    found = _rows.get(width)
    if found is None:
        found = _rows[width] = struct.Struct(_ROW_HEAD.format + "d" * width)
    return found


def row_size(width: int) -> int:
    """The bytes of a row record of ``width`` values, header included."""
    return HEADER_SIZE + _row_struct(width).size


def put_row(view: memoryview, pos: int, limit: int, keys_id: int, seq: int, time: float,
            step: int | None, values: Mapping[str, Any]) -> int | None:
    """Write a row record (``values``: floats only, in the order of the keys of ``keys_id``)
    into the writable ``view`` at ``pos``; the offset just after it, or ``None`` (nothing
    written) if it would end past ``limit``."""
    packer = _rows.get(len(values)) or _row_struct(len(values))
    end = pos + HEADER_SIZE + packer.size
    if end > limit:
        return None
    # packed into bytes first: the CRC of a bytes object costs a third of a view's
    payload = packer.pack(_ROW, keys_id, seq, time, -1 if step is None else step,
                          *values.values())
    _HEADER.pack_into(view, pos, packer.size, zlib.crc32(payload))
    view[pos + HEADER_SIZE:end] = payload
    return end


def put_frame(buffer: Any, pos: int, frame: bytes | memoryview) -> int:
    """Copy ``frame`` (what ``encode`` made) into the writable ``buffer`` at ``pos``, header
    first, then payload; the offset just after it. In two copies because one copy of many
    bytes may store its first bytes last (glibc's ``memmove``): a kill in the middle would
    leave a zeroed header before most of a payload, which reads as damage, not as the torn
    end that a header before zeros (or before part of its payload) reads as."""
    end = pos + len(frame)
    buffer[pos:pos + _HEADER.size] = frame[:_HEADER.size]
    buffer[pos + _HEADER.size:end] = frame[_HEADER.size:]
    return end


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


class CheckBudget:
    """The payload bytes a scan may check (CRC) in one segment: a few times its size. Every
    offset in damaged bytes may declare a frame running to the end of the segment, and
    checking each would be quadratic (minutes for a crafted 8 MB segment, at every
    ``gittrack.init`` that recovers it): once the budget is spent, the rest of the segment
    is reported as damage instead of being searched."""

    SHARE = 4

    def __init__(self, size: int) -> None:
        self.left = self.SHARE * size + (1 << 16)

    def spend(self, size: int) -> bool:
        """Whether ``size`` more bytes may be checked (they are counted as checked)."""
        self.left -= size
        return self.left >= 0


class Decoder:
    """Reads the records of one segment, in order: keeps the keys its ``keys`` records name,
    which the rows after them use. ``budget``: what it may check (``scan``)."""

    def __init__(self, budget: CheckBudget | None = None) -> None:
        self.keys: dict[int, tuple[str, ...]] = {}
        self.budget = budget

    def decode_at(self, data: bytes | memoryview, pos: int) -> tuple[Any, int] | None:
        """The intact record starting at ``pos`` and the offset just after it; ``None`` if
        the bytes there are not one (torn, damaged, zeros, a row whose keys are unknown)."""
        view = memoryview(data)
        found = _intact_frame(view, pos, self.budget)
        if found is None:
            return None
        payload, end = found
        if payload[0] == _ROW:
            return self._row(payload, end)
        try:
            record = _PlainUnpickler(io.BytesIO(payload)).load()
        except (pickle.UnpicklingError, EOFError, ValueError):
            return None
        if type(record) is tuple and record and record[0] == KEYS:
            if not _keys_record(record):
                return None
            self.keys[record[2]] = record[3]
        return record, end

    def _row(self, payload: memoryview, end: int) -> tuple[Any, int] | None:
        width, extra = divmod(len(payload) - _ROW_HEAD.size, 8)
        if width < 0 or extra:
            return None
        _, keys_id, seq, time, step, *values = _row_struct(width).unpack(payload)
        keys = self.keys.get(keys_id)
        if keys is None or len(keys) != width:
            return None
        return ("log", seq, time, None if step < 0 else step, None,
                dict(zip(keys, values, strict=True))), end


def _intact_frame(view: memoryview, pos: int, budget: CheckBudget | None = None
                  ) -> tuple[memoryview, int] | None:
    """The payload of the frame at ``pos`` and the offset just after it, if its CRC holds and
    it starts as a pickle or a row does (whether it decodes is the ``Decoder``'s question).
    ``None`` too once ``budget`` is spent."""
    if pos + _HEADER.size > len(view):
        return None
    length, crc = _HEADER.unpack_from(view, pos)
    start = pos + _HEADER.size
    end = start + length
    # Every payload is a protocol-5 pickle or a row: checking its first bytes before the CRC
    # keeps a scan through damaged bytes fast.
    if length < 2 or end > len(view):
        return None
    if view[start] != _ROW and view[start:start + 2] != _PICKLE_START:
        return None
    if budget is not None and not budget.spend(length):
        return None
    payload = view[start:end]
    if zlib.crc32(payload) != crc:
        return None
    return payload, end


def _keys_record(record: tuple[Any, ...]) -> bool:
    """Whether ``record`` is a well-formed ``("keys", seq, id, (key, ...))`` record."""
    return (len(record) == 4 and type(record[1]) is int and type(record[2]) is int
            and 0 <= record[2] < 2**32 and type(record[3]) is tuple
            and all(type(k) is str for k in record[3]))


def decode_at(data: bytes | memoryview, pos: int) -> tuple[Any, int] | None:
    """The intact record starting at ``pos`` on its own (a row needs a ``Decoder`` that read
    its keys): ``Decoder.decode_at``."""
    return Decoder().decode_at(data, pos)


def declared_end(data: bytes, pos: int) -> int | None:
    """Where the record whose header is at ``pos`` says it ends; ``None``: no whole header."""
    if pos + _HEADER.size > len(data):
        return None
    length, _ = _HEADER.unpack_from(data, pos)
    return pos + _HEADER.size + int(length)


def scan(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(start, end, record)`` for every intact record in ``data`` (one segment), in order,
    ``keys`` records included. After bytes that are not a record, the scan goes on at the
    next offset where an intact record starts; the caller sees the skipped bytes as the gap
    between one record's end and the next's start. Once its ``CheckBudget`` is spent in
    damaged bytes the scan stops: the caller sees the rest as damage (``holds_frame``)."""
    budget = CheckBudget(len(data))
    decoder = Decoder(budget)
    candidates = _Candidates(data)
    pos = 0
    while pos + _HEADER.size <= len(data) and budget.left >= 0:
        found = decoder.decode_at(data, pos)
        if found is None:
            pos = candidates.next(pos + 1)
            continue
        record, end = found
        yield pos, end, record
        pos = end


def holds_frame(data: bytes, start: int) -> bool:
    """Whether an intact frame starts at ``start`` or after it, even one no ``Decoder`` reads
    (a row whose ``keys`` record was damaged, a record this version refuses): the bytes
    from ``start`` are then not a torn end but lost records. Also ``True`` when too many
    offsets declare frames to check them all (``CheckBudget``): torn ends are short."""
    view = memoryview(data)
    budget = CheckBudget(len(data))
    candidates = _Candidates(data)
    pos = start
    while pos + _HEADER.size <= len(data):
        if _intact_frame(view, pos, budget) is not None:
            return True
        if budget.left < 0:
            return True
        pos = candidates.next(pos + 1)
    return False


class _Candidates:
    """The offsets of ``data`` that may start a record (its payload starts a pickle or a row),
    in increasing order. Each marker's next hit is kept until passed, so a scan through a
    long damaged stretch reads the bytes once (searching every marker anew from every failed
    offset was quadratic where one marker does not occur again)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._none = len(data) + _HEADER.size  # "no further hit", past every offset asked
        self._hits = {_PICKLE_START: -1, _ROW_START: -1}

    def next(self, pos: int) -> int:
        """The first candidate at ``pos`` or after it; ``len(data)`` if there is none."""
        first = self._none
        for marker, hit in self._hits.items():
            if hit < pos + _HEADER.size:
                hit = self._data.find(marker, pos + _HEADER.size)
                self._hits[marker] = hit = self._none if hit < 0 else hit
            first = min(first, hit)
        return first - _HEADER.size


def decode_all(data: bytes) -> Iterator[Any]:
    """Every whole, intact record in ``data`` (one segment), ``keys`` records left out,
    stopping at the first torn or damaged one."""
    decoder = Decoder()
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, _ = _HEADER.unpack_from(data, pos)
        if length == 0:  # the zeroed, unused end of a pre-sized segment
            return
        found = decoder.decode_at(data, pos)
        if found is None:
            return
        record, pos = found
        if record[0] != KEYS:
            yield record
