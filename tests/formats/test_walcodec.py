from __future__ import annotations

import math
import pickle
import struct
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittrack.formats import walcodec
from gittrack.formats.histogram import Histogram

# The plain data a WAL record holds: tuples, lists, dicts, str, numbers, bool, None.
scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False) | st.text()
)
plain = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4)
    | st.tuples(inner, inner),
    max_leaves=12,
)
records = st.tuples(st.sampled_from(["log", "config", "summary", "meta"]),
                    st.integers(1, 2**40), plain)


@given(st.lists(records, max_size=8))
def test_encode_decode_round_trip(recs: list[tuple[Any, ...]]) -> None:
    data = b"".join(walcodec.encode(r) for r in recs)
    assert list(walcodec.decode_all(data)) == recs


@settings(max_examples=50)
@given(st.lists(records, min_size=1, max_size=4))
def test_truncation_at_every_cut_point_yields_only_a_prefix(recs: list[tuple[Any, ...]]) -> None:
    encoded = [walcodec.encode(r) for r in recs]
    data = b"".join(encoded)
    ends = [sum(len(e) for e in encoded[: i + 1]) for i in range(len(encoded))]
    for cut in range(len(data) + 1):
        got = list(walcodec.decode_all(data[:cut]))
        whole = sum(1 for end in ends if end <= cut)
        assert got == recs[:whole], cut  # never a wrong record, never a lost whole one


@given(records, st.data())
def test_a_flipped_byte_is_never_read_as_a_record(
    rec: tuple[Any, ...], data: st.DataObject
) -> None:
    first = walcodec.encode(rec)
    pos = data.draw(st.integers(0, len(first) - 1))
    damaged = bytearray(first)
    damaged[pos] ^= data.draw(st.integers(1, 255))
    got = list(walcodec.decode_all(bytes(damaged) + walcodec.encode(("meta", 2, {}))))
    # A damaged record ends the readable log: it is not read, and nothing after it is.
    assert got == []


def test_nan_and_infinities_round_trip() -> None:
    rec = ("log", 1, 0.0, None, None, {"a": math.nan, "b": math.inf, "c": -math.inf})
    (got,) = walcodec.decode_all(walcodec.encode(rec))
    assert math.isnan(got[5]["a"]) and got[5]["b"] == math.inf and got[5]["c"] == -math.inf


def test_histograms_are_allowed() -> None:
    hist = Histogram.from_bins([1.0, 2.0], [0.0, 0.5, 1.0])
    (got,) = walcodec.decode_all(walcodec.encode(("log", 1, 0.0, None, None, {"h": hist})))
    assert got[5]["h"] == hist


def _frame(payload: bytes) -> bytes:
    return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload


def test_records_naming_other_globals_are_refused() -> None:
    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("pwned",))

    evil = _frame(pickle.dumps(("log", 1, Evil()), protocol=5))
    assert list(walcodec.decode_all(walcodec.encode(("meta", 1, {})) + evil)) == [("meta", 1, {})]


def test_empty_and_short_inputs() -> None:
    assert list(walcodec.decode_all(b"")) == []
    assert list(walcodec.decode_all(b"\x01\x00\x00")) == []


@pytest.mark.parametrize("garbage", [b"\x00" * 8, b"\xff" * 16])
def test_garbage_header_is_not_a_record(garbage: bytes) -> None:
    assert list(walcodec.decode_all(garbage)) == []


@given(st.lists(records, max_size=6), st.integers(0, 64))
def test_put_writes_the_frames_encode_makes(recs: list[tuple[Any, ...]], slack: int) -> None:
    """``put`` (the WAL's hot path) writes the same bytes as ``encode``, one after another,
    and writes nothing for a record that would end past the limit."""
    frames = [walcodec.encode(r) for r in recs]
    limit = sum(map(len, frames)) + slack
    buffer = bytearray(limit + 100)
    pos = 0
    for r in recs:
        end = walcodec.put(buffer, pos, limit, r)
        assert end is not None
        pos = end
    assert bytes(buffer[:pos]) == b"".join(frames)
    assert list(walcodec.decode_all(bytes(buffer))) == recs
    big = ("log", 1, "x" * (slack + 200))
    assert walcodec.put(buffer, pos, limit, big) is None
    assert not buffer[pos:].strip(b"\0")
