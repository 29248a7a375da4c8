"""M4 downsampling: what a chart of the downsampled series draws is what the full one draws."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gittrack.ui.downsample import MAX_POINTS, MIN_POINTS, clamp_points, finite_sorted, m4, window

floats = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(floats, min_size=1, max_size=400), st.integers(MIN_POINTS, 60))
def test_m4_keeps_ends_and_extremes_within_points(values: list[float], points: int) -> None:
    y = np.array(values, dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64)
    picked = m4(x, y, points)
    assert picked.size <= points
    assert list(picked) == sorted(set(picked.tolist()))
    assert picked[0] == 0 and picked[-1] == y.size - 1
    assert y[picked].min() == y.min() and y[picked].max() == y.max()
    if y.size <= points:
        assert picked.size == y.size


def test_m4_keeps_each_buckets_extremes() -> None:
    x = np.arange(1000, dtype=np.float64)
    y = np.zeros(1000)
    y[[10, 510]] = 5.0
    y[[260, 760]] = -5.0
    picked = set(m4(x, y, 16).tolist())  # 4 buckets of 250 steps
    assert {10, 260, 510, 760} <= picked


def test_m4_with_every_point_at_one_x() -> None:
    x = np.zeros(100)
    y = np.arange(100, dtype=np.float64)
    picked = m4(x, y, 8)
    assert picked.size <= 8 and {0, 99} <= set(picked.tolist())


def test_finite_sorted_drops_gaps_and_orders_x() -> None:
    x = np.array([3.0, 1.0, 2.0, np.nan, 4.0])
    y = np.array([30.0, 10.0, np.nan, 5.0, np.inf])
    fx, fy = finite_sorted(x, y)
    assert fx.tolist() == [1.0, 3.0] and fy.tolist() == [10.0, 30.0]


def test_window_and_clamp() -> None:
    x = np.arange(10, dtype=np.float64)
    assert x[window(x, 2.5, 6)].tolist() == [3.0, 4.0, 5.0, 6.0]
    assert x[window(x, None, None)].size == 10
    assert x[window(x, 8, 2)].size == 0
    assert clamp_points(10**12) == MAX_POINTS and clamp_points(-1) == MIN_POINTS


def test_m4_one_bucket_at_a_time_agrees_with_all_at_once() -> None:
    """Large buckets are searched slice by slice, small ones at once: same points, for steps
    as integers (no float copy) and as floats, with gaps in x."""
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.integers(1, 4, size=20_000)).astype(np.int64)
    y = rng.standard_normal(x.size).cumsum()
    big = m4(x, y, 40)  # 10 buckets of ~2,000 points: sliced
    assert big.tolist() == m4(x.astype(np.float64), y, 40).tolist()
    small = m4(x, y, 8_000)  # 2,000 buckets of ~10 points: at once
    assert small.size <= 8_000 and y[small].min() == y.min() and y[small].max() == y.max()
    edges = x[0] + np.arange(11) * ((x[-1] - x[0]) / 10)
    for lo, hi in itertools.pairwise(edges):  # each bucket's extremes kept
        inside = np.flatnonzero((x >= np.ceil(lo)) & (x < np.ceil(hi)))
        if inside.size:
            assert {inside[y[inside].argmin()], inside[y[inside].argmax()]} <= set(big.tolist())


def test_finite_sorted_keeps_integer_steps() -> None:
    x = np.array([2, 0, 1], dtype=np.int64)
    fx, fy = finite_sorted(x, np.array([2.0, np.nan, 1.0]))
    assert fx.dtype == np.int64 and fx.tolist() == [1, 2] and fy.tolist() == [1.0, 2.0]


def test_window_of_integer_steps() -> None:
    x = np.arange(10, dtype=np.int64)
    assert x[window(x, 2.5, 6.5)].tolist() == [3, 4, 5, 6]
    assert x[window(x, -1e300, 1e300)].size == 10
    assert x[window(x, 1e300, None)].size == 0
    assert x[window(x, -np.inf, np.inf)].size == 10
    assert x[window(x, 3, 3)].tolist() == [3]
