from __future__ import annotations

import decimal
import math

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from gittrack.formats import arrow


@given(st.lists(st.floats(), min_size=1, max_size=20), st.booleans())
def test_a_float_column_is_the_same_array_either_way(values: list[float], gap: bool) -> None:
    """Floats at every row take one C conversion; with a missing value (None) or another
    type they go the general way. Either way the array is ``numeric(values, "float")``'s,
    bit for bit (NaN payloads, -0.0)."""
    if gap:
        values = [*values, None]  # type: ignore[list-item]
    array = arrow.column(values)
    expected = arrow.numeric(values, "float")
    assert array.type == pa.float64()
    assert array.null_count == int(gap)
    assert array.buffers()[1].to_pybytes()[:8 * len(values)] == (
        expected.buffers()[1].to_pybytes()[:8 * len(values)])
    assert array.is_valid().to_pylist() == expected.is_valid().to_pylist()


def test_floats_of_chunked_columns_without_nulls_are_read_from_their_buffers() -> None:
    steps = pa.chunked_array([pa.array([0, 1, 2], pa.int64()).slice(1), pa.array([3, 4])])
    assert arrow.floats(steps, steps=True).tolist() == [1, 2, 3, 4]
    assert arrow.floats(steps, steps=True).dtype == np.int64
    assert arrow.floats(steps).dtype == np.float64
    small = pa.chunked_array([pa.array([1.5], pa.float32()), pa.array([], pa.float32())])
    assert arrow.floats(small).tolist() == [1.5]
    assert arrow.floats(pa.chunked_array([], pa.float64())).size == 0


def test_floats_nulls_become_nan_and_other_types_floats_or_none() -> None:
    values = arrow.floats(pa.chunked_array([pa.array([1, None], pa.int64()), pa.array([3])]),
                          steps=True)
    assert values.dtype == np.float64 and math.isnan(values[1]) and values[2] == 3.0
    assert arrow.floats(pa.chunked_array([pa.array([True, False])])).tolist() == [1.0, 0.0]
    assert arrow.floats(pa.chunked_array([pa.array(["a"])])) is None
    assert np.isnan(arrow.floats(pa.nulls(3))).all()
    assert arrow.floats(pa.array([decimal.Decimal("1.5"), None])).tolist()[0] == 1.5


@given(st.lists(st.one_of(st.none(), st.booleans()), max_size=40),
       st.integers(0, 9), st.integers(0, 9))
def test_floats_of_sliced_booleans_and_numbers_with_nulls(
    values: list[bool | None], start: int, cut: int
) -> None:
    """Bitmaps read from an offset (a slice) give the same values as Python's."""
    bools = pa.array(values, pa.bool_())[start:max(start, len(values) - cut)]
    numbers = pa.array([None if v is None else float(v) for v in values],
                       pa.float64())[start:max(start, len(values) - cut)]
    for array in (bools, numbers):
        expected = [math.nan if v is None else float(v) for v in array.to_pylist()]
        got = arrow.floats(array).tolist()
        assert len(got) == len(expected)
        assert all((math.isnan(a) and math.isnan(b)) or a == b
                   for a, b in zip(got, expected, strict=True))
