"""The record stream of a W&B run file (``run-<id>.wandb``): LevelDB's log format, as W&B
writes it, yielding each record's bytes (protobuf ``Record`` messages, parsed by the caller).

The file starts with a 7-byte header: ``:W&B``, the magic ``0xBEE1`` and version 0. Then come
32 KiB blocks of chunks, each a 7-byte header (CRC-32 of the type byte and the data, length,
type: full, first, middle or last) and its data; a block's tail shorter than a header is
padding. W&B 0.31 has no Python reader of its own (its Go core reads these files), so the
format is read here: https://github.com/google/leveldb/blob/main/doc/log_format.md
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from gittrack.errors import FormatError

_IDENT = b":W&B"
_MAGIC = 0xBEE1
_HEADER = struct.Struct("<4sHB")
_CHUNK = struct.Struct("<IHB")
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[bytes]:
    """Each record of ``path`` in order. A damaged file (not a W&B run file, a checksum that
    does not match) raises ``FormatError`` naming it; a record cut off at the end (a process
    killed while writing) ends the stream, as W&B's own reader does."""
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        raise FormatError(f"{path}: not a W&B run file (too short)")
    ident, magic, version = _HEADER.unpack_from(data)
    if ident != _IDENT or magic != _MAGIC or version != 0:
        raise FormatError(f"{path}: not a W&B run file (header {data[:7]!r})")
    pending: bytes | None = None
    for kind, chunk in _chunks(path, data):
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind in (_MIDDLE, _LAST) and pending is not None:
            pending += chunk
            if kind == _LAST:
                yield pending
                pending = None
        else:
            raise FormatError(f"{path}: damaged W&B run file (chunk type {kind})")


def _chunks(path: Path, data: bytes) -> Iterator[tuple[int, bytes]]:
    pos = _HEADER.size
    while pos + _CHUNK.size <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _CHUNK.size:
            pos += left
            continue
        crc, length, kind = _CHUNK.unpack_from(data, pos)
        if kind == 0 and length == 0 and crc == 0:  # zero padding at a block's end
            pos += left
            continue
        start = pos + _CHUNK.size
        if start + length > len(data):
            return  # cut off by a crash: what came before stands
        chunk = data[start:start + length]
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != crc:
            raise FormatError(f"{path}: damaged W&B run file (checksum mismatch at byte {pos})")
        yield kind, chunk
        pos = start + length
