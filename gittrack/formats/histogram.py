"""``gittrack.Histogram``: a distribution logged at a step, stored as bin edges and counts."""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence
from typing import Any

from gittrack.errors import InvalidValueError

MAX_BINS = 512
_MAX_FLOAT = sys.float_info.max
DEFAULT_BINS = 64


class Histogram:
    """A histogram of ``values``, or one already binned as ``(counts, edges)``.

    >>> gittrack.log({"weights": gittrack.Histogram(layer.weight)})          # doctest: +SKIP
    >>> gittrack.log({"h": gittrack.Histogram(np.histogram(x, bins=32))})    # doctest: +SKIP

    Non-finite values (NaN, ±inf) cannot be placed in a bin: they are left out of the counts and
    counted in ``dropped``. ``num_bins`` is 64 by default and at most 512; a range too narrow
    (or too wide) for ``num_bins`` distinct float edges gets fewer bins. Anything else — values
    that are not real numbers, bad bins, (counts, edges) that do not fit — is an
    ``InvalidValueError``, never a numpy error or warning.
    """

    __slots__ = ("counts", "dropped", "edges")

    def __init__(
        self,
        values: Any = None,
        num_bins: int = DEFAULT_BINS,
        *,
        np_histogram: tuple[Any, Any] | None = None,
    ) -> None:
        if isinstance(num_bins, bool) or not isinstance(num_bins, int):
            raise InvalidValueError(f"num_bins must be an int, got {type(num_bins).__name__}")
        if not 1 <= num_bins <= MAX_BINS:
            raise InvalidValueError(f"num_bins must be between 1 and {MAX_BINS}, got {num_bins}")
        if np_histogram is None and _looks_binned(values):
            np_histogram = values
        self.dropped = 0
        if np_histogram is not None:
            self.counts, self.edges = _from_binned(*np_histogram)
        elif values is None:
            raise InvalidValueError("Histogram needs values, or (counts, edges)")
        else:
            self.counts, self.edges, self.dropped = _bin(values, num_bins)

    @classmethod
    def from_bins(cls, counts: Sequence[float], edges: Sequence[float]) -> Histogram:
        hist = cls.__new__(cls)
        # plain floats: histograms go into the write-ahead log, which holds plain data only
        hist.counts, hist.edges = [float(c) for c in counts], [float(e) for e in edges]
        hist.dropped = 0
        return hist

    @property
    def num_bins(self) -> int:
        return len(self.counts)

    def to_dict(self) -> dict[str, Any]:
        """The W&B-compatible summary form: ``{"_type": "histogram", "values", "bins"}``."""
        return {"_type": "histogram", "values": list(self.counts), "bins": list(self.edges)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return self.counts == other.counts and self.edges == other.edges

    def __hash__(self) -> int:
        return hash((tuple(self.counts), tuple(self.edges)))

    def __repr__(self) -> str:
        return f"Histogram(bins={self.num_bins}, range=[{self.edges[0]}, {self.edges[-1]}])"


def _looks_binned(values: Any) -> bool:
    if not (isinstance(values, tuple) and len(values) == 2):
        return False
    counts, edges = values
    try:
        return len(edges) == len(counts) + 1
    except TypeError:
        return False


def _as_numpy(values: Any) -> Any:
    import warnings

    import numpy as np

    if hasattr(values, "detach"):  # torch tensors, possibly on a device or requiring grad
        values = values.detach().cpu().numpy()
    try:
        # numpy warns where it loses data (complex to real, overflow): refused, not stored
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError, OverflowError, Warning) as exc:
        raise InvalidValueError(
            f"Histogram values must be real numbers, got {type(values).__name__}: {exc}"
        ) from None


def _bin(values: Any, num_bins: int) -> tuple[list[float], list[float], int]:
    import numpy as np

    array = _as_numpy(values)
    finite = array[np.isfinite(array)]
    dropped = int(array.size - finite.size)
    if finite.size == 0:
        return [0.0] * num_bins, [float(x) for x in np.linspace(0.0, 1.0, num_bins + 1)], dropped
    edges = _edges(float(finite.min()), float(finite.max()), num_bins)
    counts, _ = np.histogram(finite, bins=edges)
    return [float(c) for c in counts], [float(e) for e in edges], dropped


def _edges(lo: float, hi: float, num_bins: int) -> Any:
    """``num_bins + 1`` evenly spaced edges from ``lo`` to ``hi``, as strictly increasing finite
    floats, so that the histogram reads back (``_from_binned``).

    Not ``np.histogram(bins=n)``: ``hi - lo`` overflows for a range wider than the largest
    float (``[-1e308, 1e308]``: "Too many bins"), and a range narrower than ``n`` floats gives
    equal edges. Each edge is ``lo·(1-t) + hi·t``, which cannot overflow; edges that round to
    the same float are merged, so such a histogram has fewer bins (at least one).
    """
    import numpy as np

    if lo == hi:  # as numpy: a unit-wide range around a single value
        lo, hi = lo - 0.5, hi + 0.5
        if lo == hi:  # too large for ±0.5 to change it: the next floats down and up
            lo, hi = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
        lo, hi = max(lo, -_MAX_FLOAT), min(hi, _MAX_FLOAT)
    t = np.linspace(0.0, 1.0, num_bins + 1)
    # t = 0 and t = 1 give lo and hi exactly; rounding may step just outside in between
    return np.unique(np.clip(lo * (1.0 - t) + hi * t, lo, hi))  # sorted, duplicates merged


def _from_binned(counts: Any, edges: Any) -> tuple[list[float], list[float]]:
    c = [float(x) for x in _as_numpy(counts)]
    e = [float(x) for x in _as_numpy(edges)]
    if not 1 <= len(c) <= MAX_BINS:
        raise InvalidValueError(f"a histogram has 1 to {MAX_BINS} bins, got {len(c)}")
    if len(e) != len(c) + 1:
        raise InvalidValueError(
            f"a histogram needs len(edges) == len(counts) + 1, got {len(e)} and {len(c)}"
        )
    if not all(math.isfinite(x) for x in e) or any(b <= a for a, b in itertools.pairwise(e)):
        raise InvalidValueError("histogram edges must be finite and strictly increasing")
    if not all(math.isfinite(x) and x >= 0 for x in c):
        raise InvalidValueError("histogram counts must be finite and non-negative")
    return c, e
