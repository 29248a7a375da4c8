"""The record stream of a W&B run file: LevelDB's log format, written here chunk by chunk."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from gittrack.errors import FormatError
from gittrack.importers.wandb_log import records

_HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)


def _chunk(kind: int, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF
    return struct.pack("<IHB", crc, len(data), kind) + data


def _file(tmp_path: Path, *chunks: bytes) -> Path:
    path = tmp_path / "run-x.wandb"
    path.write_bytes(_HEADER + b"".join(chunks))
    return path


def test_full_and_split_records_read_back_in_order(tmp_path: Path) -> None:
    path = _file(tmp_path, _chunk(1, b"one"), _chunk(2, b"tw"), _chunk(3, b"o-"),
                 _chunk(4, b"parts"), _chunk(1, b""))
    assert list(records(path)) == [b"one", b"two-parts", b""]


def test_records_across_a_block_boundary_and_its_padding(tmp_path: Path) -> None:
    first = b"x" * (32768 - 7 - 7 - 3)  # leaves 3 bytes in the block: padding
    path = _file(tmp_path, _chunk(1, first), b"\0\0\0", _chunk(1, b"next"))
    assert list(records(path)) == [first, b"next"]


def test_a_record_cut_off_at_the_end_ends_the_stream(tmp_path: Path) -> None:
    path = _file(tmp_path, _chunk(1, b"kept"), _chunk(1, b"cut off here")[:-4])
    assert list(records(path)) == [b"kept"]


@pytest.mark.parametrize("damage", ["header", "checksum", "kind"])
def test_damage_is_an_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    chunk = _chunk(1, b"data")
    if damage == "checksum":
        chunk = chunk[:-1] + b"X"
    if damage == "kind":
        chunk = _chunk(9, b"data")
    path = _file(tmp_path, chunk)
    if damage == "header":
        path.write_bytes(b"PK\x03\x04" + path.read_bytes()[4:])
    with pytest.raises(FormatError, match=r"run-x\.wandb"):
        list(records(path))
