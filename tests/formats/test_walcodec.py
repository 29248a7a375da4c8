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


# -- rows: log() calls of floats, packed --------------------------------------------------
float_rows = st.dictionaries(st.text(min_size=1, max_size=6), st.floats(), max_size=5)


def _framed_rows(rows: list[tuple[int, float, int | None, dict[str, float]]]) -> bytes:
    """A segment as the writer makes it: each new key tuple named by a ``keys`` record
    before the first row that uses it."""
    buffer = bytearray(64 * 1024 + 64 * len(rows))
    view = memoryview(buffer)
    pos = 0
    ids: dict[tuple[str, ...], int] = {}
    for seq, t, step, values in rows:
        keys = tuple(values)
        if keys not in ids:
            ids[keys] = len(ids)
            frame = walcodec.encode((walcodec.KEYS, seq, ids[keys], keys))
            buffer[pos:pos + len(frame)] = frame
            pos += len(frame)
        end = walcodec.put_row(view, pos, len(buffer), ids[keys], seq, t, step, values)
        assert end is not None and end - pos == walcodec.row_size(len(values))
        pos = end
    view.release()
    return bytes(buffer[:pos])


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (a float's bits are kept)."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@given(st.lists(st.tuples(st.integers(1, 2**62), st.floats(allow_nan=False),
                          st.none() | st.integers(0, 2**63 - 1), float_rows), max_size=8))
def test_a_row_reads_back_as_the_log_record_it_packs(
    rows: list[tuple[int, float, int | None, dict[str, float]]]
) -> None:
    """A row is the record ``("log", seq, time, step, None, values)``: the same keys in the
    same order, every float's bits (NaN, -0.0, inf), a step or none."""
    data = _framed_rows(rows)
    expected = [("log", seq, t, step, None, values) for seq, t, step, values in rows]
    got = list(walcodec.decode_all(data))
    assert len(got) == len(expected) and all(map(_same, got, expected))
    kinds = [record[0] for _, _, record in walcodec.scan(data)]
    assert kinds.count("log") == len(rows)
    assert kinds.count(walcodec.KEYS) == len({tuple(v) for *_, v in rows})


def test_a_row_whose_keys_record_is_lost_is_not_read() -> None:
    """Rows name their keys by a record of their own segment: without it (damaged, or in
    another segment) they cannot be read and are skipped as damage, not misread."""
    rows = [(1, 1.0, 0, {"a": 1.5, "b": 2.5}), (2, 2.0, 1, {"a": 3.5, "b": 4.5}),
            (3, 3.0, 2, {"c": 5.5})]
    data = bytearray(_framed_rows(rows))
    first_end = walcodec.declared_end(bytes(data), 0)
    assert first_end is not None
    data[first_end - 1] ^= 0xFF  # the keys record of "a", "b"
    found = [record for _, _, record in walcodec.scan(bytes(data))]
    assert [r[1] for r in found if r[0] == "log"] == [3]
    assert found[-1][5] == {"c": 5.5}
    assert list(walcodec.decode_all(bytes(data))) == []  # stops at the damage


def test_put_row_writes_nothing_past_the_limit() -> None:
    buffer = bytearray(100)
    view = memoryview(buffer)
    size = walcodec.row_size(3)
    assert walcodec.put_row(view, 0, size - 1, 0, 1, 0.0, 0, {"a": 1.0, "b": 2.0, "c": 3.0}) \
        is None
    assert not bytes(buffer).strip(b"\0")
    assert walcodec.put_row(view, 0, size, 0, 1, 0.0, 0, {"a": 1.0, "b": 2.0, "c": 3.0}) == size
    view.release()


@pytest.mark.parametrize("keys", [("a", 1), ("a", b"b"), "ab", ["a"]])
def test_a_keys_record_of_another_shape_is_damage(keys: Any) -> None:
    data = walcodec.encode((walcodec.KEYS, 1, 0, keys))
    assert list(walcodec.scan(data)) == []


def _naive_next(data: bytes, pos: int) -> int:
    """The next candidate as searching every marker anew finds it."""
    head = walcodec.HEADER_SIZE
    hits = [h for h in (data.find(b"\x80\x05", pos + head), data.find(b"\x01", pos + head))
            if h >= 0]
    return min(hits) - head if hits else len(data)


@given(st.binary(max_size=200), st.lists(st.integers(0, 220), max_size=30))
def test_candidates_are_those_a_fresh_search_finds(data: bytes, asked: list[int]) -> None:
    """The candidate offsets of a scan, kept between calls, are the ones a search from
    scratch finds, for offsets asked in increasing order (as a scan asks them)."""
    candidates = walcodec._Candidates(data)
    for pos in sorted(asked):
        assert candidates.next(pos) == _naive_next(data, pos)


def test_a_scan_through_damage_reads_the_bytes_once() -> None:
    """Rows whose keys are lost, then no pickle to the end: each failed offset found its
    next candidate by searching to the end again (quadratic). Counted in finds, not time."""
    rows = [(seq, float(seq), seq, {"a": seq / 7, "b": -seq / 3}) for seq in range(1, 2001)]
    data = bytearray(_framed_rows(rows))
    first_end = walcodec.declared_end(bytes(data), 0)
    assert first_end is not None
    data[first_end - 1] ^= 0xFF  # the keys record: no row after it reads
    finds = 0

    class Counting(bytes):
        def find(self, *args: Any) -> int:  # type: ignore[override]
            nonlocal finds
            finds += 1
            return super().find(*args)

    assert list(walcodec.scan(Counting(data))) == []
    # one search per occurrence of a marker at most (the old scan made two per failed offset)
    assert finds <= data.count(b"\x01") + data.count(b"\x80\x05") + 2


def test_holds_frame_sees_rows_no_decoder_reads() -> None:
    rows = [(1, 1.0, 0, {"a": 1.5}), (2, 2.0, 1, {"a": 2.5})]
    data = _framed_rows(rows)
    first_end = walcodec.declared_end(data, 0)
    assert first_end is not None
    assert walcodec.holds_frame(data, first_end)  # the rows, though their keys are elsewhere
    assert not walcodec.holds_frame(data, len(data) - 1)
    assert not walcodec.holds_frame(b"\0" * 64, 0)


def _crafted(size: int) -> bytes:
    """Every 16 bytes a header declaring a payload to half the data, starting as a row."""
    block = struct.pack("<II", size // 2, 0x22222222) + b"\x01" + b"\x02" * 7
    return (block * (size // 16))[:size]


def test_crafted_damage_is_checked_within_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each offset of crafted bytes declares a frame to half the segment: checking each CRC
    was quadratic (minutes for 8 MB, at every init that recovers the log). The bytes checked
    stay within the budget, and the rest counts as damage (``holds_frame``)."""
    checked = 0
    real = zlib.crc32

    def counting(data: Any, *args: Any) -> int:
        nonlocal checked
        checked += len(data)
        return real(data, *args)

    monkeypatch.setattr(walcodec.zlib, "crc32", counting)
    data = _crafted(1 << 18)
    assert list(walcodec.scan(data)) == []
    assert walcodec.holds_frame(data, 0)  # not a torn end: reported as damage
    bound = walcodec.CheckBudget.SHARE * len(data) + (1 << 16) + len(data)
    assert checked <= 2 * bound


def test_put_frame_stores_the_header_before_the_payload() -> None:
    """A frame copied whole may have its first bytes stored last; in two copies, header
    first, a kill leaves a header before zeros or part of its payload: a torn end."""
    stores: list[tuple[int, int]] = []

    class Recording(bytearray):
        def __setitem__(self, key: Any, value: Any) -> None:
            if isinstance(key, slice):
                stores.append((key.start, key.stop))
            super().__setitem__(key, value)

    frame = walcodec.encode(("log", 1, 0.0, None, None, {"x": "y" * 500}))
    buffer = Recording(len(frame) + 16)
    assert walcodec.put_frame(buffer, 16, frame) == 16 + len(frame)
    assert stores == [(16, 16 + walcodec.HEADER_SIZE), (16 + walcodec.HEADER_SIZE,
                                                         16 + len(frame))]
    assert bytes(buffer[16:]) == frame
