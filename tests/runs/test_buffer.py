from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

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
