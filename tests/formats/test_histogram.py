from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittrack.errors import InvalidValueError
from gittrack.formats.histogram import DEFAULT_BINS, MAX_BINS, Histogram

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=200), st.integers(1, MAX_BINS))
def test_from_values_counts_every_value_once(values: list[float], bins: int) -> None:
    hist = Histogram(values, num_bins=bins)
    # fewer bins only where the range holds fewer than ``bins`` distinct floats
    assert hist.num_bins == bins or (max(values) - min(values)) / bins < 1e-9 * max(
        1.0, abs(max(values)), abs(min(values)))
    assert len(hist.edges) == hist.num_bins + 1
    assert sum(hist.counts) == len(values)
    assert hist.edges[0] <= min(values) and hist.edges[-1] >= max(values)
    assert all(b >= a for a, b in zip(hist.edges, hist.edges[1:], strict=False))
    assert hist.dropped == 0


@given(st.lists(finite, min_size=1, max_size=100),
       st.lists(st.sampled_from([math.nan, math.inf, -math.inf]), max_size=10))
def test_non_finite_values_are_dropped_and_counted(values: list[float], bad: list[float]) -> None:
    hist = Histogram(values + bad, num_bins=8)
    assert sum(hist.counts) == len(values)
    assert hist.dropped == len(bad)


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=MAX_BINS), st.data())
def test_from_counts_and_edges_round_trip(counts: list[int], data: st.DataObject) -> None:
    steps = data.draw(st.lists(st.floats(0.001, 1000), min_size=len(counts) + 1,
                               max_size=len(counts) + 1))
    edges = list(np.cumsum(steps) - 500.0)
    hist = Histogram((counts, edges))
    assert hist.counts == [float(c) for c in counts]
    assert hist.edges == [float(e) for e in edges]
    assert Histogram(np_histogram=(counts, edges)) == hist
    assert Histogram.from_bins(hist.counts, hist.edges) == hist
    assert hist.to_dict() == {"_type": "histogram", "values": hist.counts, "bins": hist.edges}


def test_numpy_histogram_tuple_is_taken_as_bins() -> None:
    counts, edges = np.histogram(np.arange(10.0), bins=5)
    hist = Histogram(np.histogram(np.arange(10.0), bins=5))
    assert hist.counts == [2.0] * 5
    assert hist.edges == [float(e) for e in edges]
    assert all(type(x) is float for x in hist.counts + hist.edges)
    assert list(counts) == [2] * 5


def test_from_bins_stores_plain_floats() -> None:
    # Histograms go into the write-ahead log, which holds plain Python data only.
    hist = Histogram.from_bins(np.array([1, 2]), np.array([0.0, 1.0, 2.0]))  # type: ignore[arg-type]
    assert all(type(x) is float for x in hist.counts + hist.edges)


def test_defaults_and_empty_values() -> None:
    assert Histogram(np.random.default_rng(0).normal(size=1000)).num_bins == DEFAULT_BINS
    empty = Histogram([math.nan], num_bins=4)
    assert empty.counts == [0.0] * 4 and empty.dropped == 1


def test_multi_dimensional_values_are_flattened() -> None:
    assert sum(Histogram(np.ones((3, 4)), num_bins=2).counts) == 12


@pytest.mark.parametrize("bins", [0, MAX_BINS + 1, -1, 2.5, True, "8"])
def test_num_bins_out_of_range(bins: object) -> None:
    with pytest.raises(InvalidValueError, match="num_bins"):
        Histogram([1.0, 2.0], num_bins=bins)  # type: ignore[arg-type]


def test_max_bins_accepted() -> None:
    assert Histogram(np.arange(1000.0), num_bins=MAX_BINS).num_bins == MAX_BINS


@pytest.mark.parametrize(
    ("counts", "edges", "message"),
    [
        ([1, 2], [0.0, 1.0], "len"),
        ([1], [1.0, 0.0], "increasing"),
        ([1], [0.0, math.inf], "finite"),
        ([-1], [0.0, 1.0], "non-negative"),
        ([math.nan], [0.0, 1.0], "non-negative"),
        ([1] * (MAX_BINS + 1), list(range(MAX_BINS + 2)), "bins"),
    ],
)
def test_bad_bins_are_refused(counts: list[float], edges: list[float], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        Histogram(np_histogram=(counts, edges))


def test_values_that_are_not_numbers() -> None:
    with pytest.raises(InvalidValueError, match="numbers"):
        Histogram(["a", "b"])
    with pytest.raises(InvalidValueError, match="needs values"):
        Histogram()


def test_equality_hash_and_repr() -> None:
    a = Histogram.from_bins([1.0], [0.0, 1.0])
    b = Histogram.from_bins([1.0], [0.0, 1.0])
    assert a == b and hash(a) == hash(b) and a != Histogram.from_bins([2.0], [0.0, 1.0])
    assert a.__eq__(object()) is NotImplemented
    assert "bins=1" in repr(a)


def test_tensor_like_values_with_detach() -> None:
    class FakeTensor:
        def __init__(self, data: np.ndarray) -> None:
            self.data = data

        def detach(self) -> FakeTensor:
            return self

        def cpu(self) -> FakeTensor:
            return self

        def numpy(self) -> np.ndarray:
            return self.data

    assert sum(Histogram(FakeTensor(np.arange(5.0)), num_bins=5).counts) == 5


def _round_trips(hist: Histogram) -> None:
    """What a Histogram stores is what ``np_histogram=`` accepts back, unchanged."""
    assert 1 <= hist.num_bins <= MAX_BINS and len(hist.edges) == hist.num_bins + 1
    assert Histogram(np_histogram=(hist.counts, hist.edges)) == hist
    assert Histogram.from_bins(hist.counts, hist.edges) == hist


any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(st.lists(any_float, max_size=50), st.one_of(st.integers(-2, MAX_BINS + 2),
                                                    st.sampled_from([10**9, -(10**9)])))
def test_any_values_build_a_histogram_that_round_trips_or_are_refused(
    values: list[float], bins: int
) -> None:
    """The test suite turns numpy's warnings into errors: none may escape either."""
    try:
        hist = Histogram(values, num_bins=bins)
    except InvalidValueError:
        assert not 1 <= bins <= MAX_BINS
        return
    _round_trips(hist)
    finite = [v for v in values if math.isfinite(v)]
    assert sum(hist.counts) == len(finite) and hist.dropped == len(values) - len(finite)
    if finite:
        assert hist.edges[0] <= min(finite) and hist.edges[-1] >= max(finite)


@given(st.lists(any_float, max_size=12), st.lists(any_float, max_size=12))
def test_any_counts_and_edges_round_trip_or_are_refused(
    counts: list[float], edges: list[float]
) -> None:
    try:
        hist = Histogram(np_histogram=(counts, edges))
    except InvalidValueError:
        return
    _round_trips(hist)


@pytest.mark.parametrize("values", [
    [-1e308, 1e308], [-1.7976931348623157e308, 1.7976931348623157e308],
    [1.7976931348623157e308], [1e308] * 3, [0.0, 5e-324], [5e-324, 1e-323], [math.inf, 1.0],
])
def test_extreme_ranges_build_histograms(values: list[float]) -> None:
    """Regression: a range wider than the largest float made numpy raise 'Too many bins'."""
    hist = Histogram(values)
    _round_trips(hist)
    assert sum(hist.counts) == sum(1 for v in values if math.isfinite(v))


@pytest.mark.parametrize("values", [
    [1 + 2j], [10**400], {"a": 1}, "abc", [[1.0], [1.0, 2.0]], object(),
])
def test_values_that_are_not_real_numbers_are_refused(values: object) -> None:
    with pytest.raises(InvalidValueError):
        Histogram(values)


@pytest.mark.parametrize("binned", [
    ([1.0, 2.0], [0.0, 1.0]), ([1.0], [1.0, 0.0]), ([1.0], [0.0, 0.0]), ([-1.0], [0.0, 1.0]),
    ([1e400], [0.0, 1.0]), ([10**400], [0.0, 1.0]), ([], [0.0]), ([1.0] * 513, list(range(514))),
    ([1.0], [0.0, math.inf]), ([math.nan], [0.0, 1.0]),
])
def test_bad_binned_histograms_are_refused(binned: tuple[list[float], list[float]]) -> None:
    with pytest.raises(InvalidValueError):
        Histogram(np_histogram=binned)
