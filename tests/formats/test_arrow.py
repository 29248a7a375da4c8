from __future__ import annotations

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
