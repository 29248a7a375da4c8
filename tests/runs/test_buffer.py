from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gittrack.runs import buffer as buffer_module
from gittrack.runs.buffer import HistoryBuffer

keys = st.sampled_from(["a", "b", "c", "d/e"])
row = st.dictionaries(keys, st.floats(allow_nan=False) | st.integers(-3, 3) | st.text(max_size=3),
                      max_size=4)


def general(buffer: HistoryBuffer) -> dict[str, list[Any]]:
    """Columns the plain way: a list per key, in order of first appearance, None-padded."""
    rows = buffer.values()
    names = dict.fromkeys(k for r in rows for k in r)
    return {k: [r.get(k) for r in rows] for k in names}


@given(st.lists(row, max_size=12))
def test_columns_of_any_rows(rows: list[dict[str, Any]]) -> None:
    buffer = HistoryBuffer()
    for i, values in enumerate(rows):
        buffer.append(i, float(i), values)
    columns = buffer.columns()
    assert columns == general(buffer)
    assert list(columns) == list(general(buffer))  # the order of first appearance


@given(row.filter(lambda r: len(r) >= 2), st.integers(1, 20), st.data())
def test_columns_of_rows_with_the_same_keys(
    first: dict[str, Any], n: int, data: st.DataObject
) -> None:
    """The common case (every row has the same keys, in any order) is transposed in C: the
    same lists."""
    buffer = HistoryBuffer()
    for i in range(n):
        order = data.draw(st.permutations(list(first)))
        buffer.append(i, float(i), {k: first[k] if i % 2 else i for k in order})
    columns = buffer.columns()
    assert columns == general(buffer)
    assert all(type(v) is list and len(v) == n for v in columns.values())


float_row = st.dictionaries(keys, st.floats(allow_nan=False), max_size=4)
any_row = st.one_of(float_row.map(lambda r: (r, True)), row.map(lambda r: (r, False)))


@contextlib.contextmanager
def compacting_every(rows: int) -> Iterator[None]:
    """The float block's dicts become arrays every ``rows`` rows (4,096 otherwise)."""
    saved = buffer_module.COMPACT_ROWS
    buffer_module.COMPACT_ROWS = rows
    try:
        yield
    finally:
        buffer_module.COMPACT_ROWS = saved


@given(st.lists(any_row, max_size=12), st.sampled_from([2, 3, 4096]))
def test_rows_of_floats_read_back_as_rows(rows: list[tuple[dict[str, Any], bool]],
                                          compact: int) -> None:
    """Rows the caller says are floats go to the float block (dicts, then arrays every
    ``COMPACT_ROWS``); any other row, or other keys, turns it into rows. Either way every
    reading is the plain one, in the order logged."""
    with compacting_every(compact):
        _read_back(rows)


def _read_back(rows: list[tuple[dict[str, Any], bool]]) -> None:
    buffer = HistoryBuffer()
    for i, (values, floats) in enumerate(rows):
        buffer.append(i, float(i), dict(values), floats and all(type(v) is float
                                                                for v in values.values()))
    assert buffer.rows == len(rows)
    assert buffer.values() == [values for values, _ in rows]
    assert buffer.steps() == list(range(len(rows)))
    assert buffer.columns() == general(buffer)
    taken = buffer.take()
    assert buffer.rows == 0 and buffer.values() == [] and taken.rows == len(rows)


@given(st.lists(st.sampled_from([("a",), ("a", "b"), ("b", "a"), ()]), min_size=1,
                max_size=10), st.sampled_from([2, 3, 4096]), st.data())
def test_the_float_block_is_the_columns_when_every_row_has_the_same_keys(
    keysets: list[tuple[str, ...]], compact: int, data: st.DataObject
) -> None:
    """``float_block`` (the checkpoint's fast path) gives the same columns as ``columns``,
    or ``None`` when the rows' keys differ (then the plain path is taken)."""
    buffer = HistoryBuffer()
    with compacting_every(compact):
        for i, ks in enumerate(keysets):
            buffer.append(i, 0.5 * i, {k: data.draw(st.floats()) for k in ks}, True)
        plain = buffer.columns()
        values = buffer.values()
        block = buffer.float_block()
    assert buffer.values() == values or any(math.isnan(v) for r in values for v in r.values())
    if len({frozenset(ks) for ks in keysets}) > 1:
        assert block is None
        return
    assert block is not None
    names, steps, times, columns = block
    assert steps.tolist() == list(range(len(keysets)))
    assert times.tolist() == [0.5 * i for i in range(len(keysets))]
    assert names == list(plain)
    for name, column in zip(names, columns, strict=True):
        assert [repr(v) for v in column.tolist()] == [repr(v) for v in plain[name]]


def test_a_float_row_after_another_row_is_a_row() -> None:
    """Order is kept: once a row is not in the block, the floats after it are rows too."""
    buffer = HistoryBuffer()
    buffer.append(0, 0.0, {"a": 1.0}, True)
    buffer.append(1, 1.0, {"a": 2}, False)
    buffer.append(2, 2.0, {"a": 3.0}, True)
    assert buffer.float_block() is None
    assert buffer.columns() == {"a": [1.0, 2, 3.0]}
    assert [type(v) for v in buffer.columns()["a"]] == [float, int, float]
