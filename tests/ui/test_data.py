"""The history columns as numpy arrays for the charts (``gittrack.ui.data._floats``)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from gittrack.ui.data import _floats


def test_chunked_columns_without_nulls_are_read_from_their_buffers() -> None:
    steps = pa.chunked_array([pa.array([0, 1, 2], pa.int64()).slice(1), pa.array([3, 4])])
    assert _floats(steps, steps=True).tolist() == [1, 2, 3, 4]
    assert _floats(steps, steps=True).dtype == np.int64
    assert _floats(steps).dtype == np.float64
    small = pa.chunked_array([pa.array([1.5], pa.float32()), pa.array([], pa.float32())])
    assert _floats(small).tolist() == [1.5]
    assert _floats(pa.chunked_array([], pa.float64())).size == 0


def test_nulls_become_nan_and_other_types_floats_or_none() -> None:
    values = _floats(pa.chunked_array([pa.array([1, None], pa.int64()), pa.array([3])]),
                     steps=True)
    assert values.dtype == np.float64 and math.isnan(values[1]) and values[2] == 3.0
    assert _floats(pa.chunked_array([pa.array([True, False])])).tolist() == [1.0, 0.0]
    assert _floats(pa.chunked_array([pa.array(["a"])])) is None
