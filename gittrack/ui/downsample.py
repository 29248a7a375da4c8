"""Server-side downsampling of a metric for a chart: M4 (first, min, max, last per bucket).

A chart ``points`` wide draws at most about ``points / 4`` distinct columns of pixels worth of
buckets; for each bucket of equal x width the first, the lowest, the highest and the last point
are kept. The line drawn through them covers exactly the pixels the full series would (Jugel et
al., "M4: a visualization-oriented time series data aggregation", VLDB 2014), so no spike and
no extreme is lost, unlike LTTB or plain striding. Numpy only, linear in the points: a
10,000,000-point series takes a fraction of a second (``bench/ui.py``).

Points whose x or y is not a finite number (a step where the key was not logged, a logged NaN
or infinity) are left out: a chart cannot place them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Numbers = npt.NDArray[np.float64] | npt.NDArray[np.int64]
    Indices = npt.NDArray[np.int64]

SLICED = 64
"""Buckets of at least this many points on average are searched one by one (``argmin`` of
each slice: no temporary as large as the series); smaller ones all at once."""
MIN_POINTS = 4
MAX_POINTS = 100_000
"""At most this many points per series in one answer (a request for more is clamped)."""


def clamp_points(points: int) -> int:
    """``points`` within ``MIN_POINTS`` .. ``MAX_POINTS``."""
    return max(MIN_POINTS, min(MAX_POINTS, points))


def finite_sorted(x: Numbers, y: Floats) -> tuple[Numbers, Floats]:
    """``x`` and ``y`` without the points either lacks, in ascending ``x`` (a stable sort, only
    when ``x`` is not already in order: steps logged out of order, or a metric as x axis).
    ``x`` may be integers (steps: no float copy made, and nothing to drop)."""
    import numpy as np

    keep = np.isfinite(y)
    if x.dtype.kind == "f":
        keep &= np.isfinite(x)
    if not keep.all():
        x, y = x[keep], y[keep]
    if x.size > 1 and bool((x[1:] < x[:-1]).any()):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    return x, y


def window(x: Numbers, start: float | None, end: float | None) -> slice:
    """The slice of the ascending ``x`` within ``[start, end]`` (either end open when None)."""
    lo = 0 if start is None else _search(x, start, "left")
    hi = x.size if end is None else _search(x, end, "right")
    return slice(lo, max(lo, hi))


def _search(x: Numbers, bound: float, side: str) -> int:
    """Where ``bound`` goes in the ascending ``x`` (``side`` as ``np.searchsorted``). Integer
    steps are searched with an integer (a float would copy them all as floats): ``x >= 2.5``
    is ``x >= 3``, ``x <= 2.5`` is ``x <= 2``."""
    import numpy as np

    if x.dtype.kind == "f" or not math.isfinite(bound):
        if x.dtype.kind != "f":  # infinite or NaN (NaN sorts after every number)
            return 0 if bound == -math.inf else int(x.size)
        return int(np.searchsorted(x, bound, side=side))  # type: ignore[call-overload]
    whole = math.ceil(bound) if side == "left" else math.floor(bound)
    info = np.iinfo(np.int64)  # steps are int64 (``arrow.floats``)
    if whole < info.min:
        return 0
    if whole > info.max:
        return int(x.size)
    return int(np.searchsorted(x, np.int64(whole), side=side))  # type: ignore[call-overload]


def m4(x: Numbers, y: Floats, points: int) -> Indices:
    """Indices (ascending) of the points of the ascending, finite ``x``/``y`` to draw: all of
    them when there are at most ``points``, else first/min/max/last of ``points // 4`` buckets
    of equal x width (at most ``points`` indices).

    The buckets' bounds are found by binary search in ``x`` (a few hundred), not by a bucket
    number per point: 10,000,000 points make no temporary array of their size unless the
    buckets are small (then the extremes are found for all buckets at once)."""
    import numpy as np

    n = int(x.size)
    if n <= points:
        return np.arange(n, dtype=np.int64)
    buckets = max(1, points // 4)
    low, span = float(x[0]), float(x[-1]) - float(x[0])
    if span > 0:
        edges = low + np.arange(1, buckets, dtype=np.float64) * (span / buckets)
        if x.dtype.kind != "f":  # x >= edge is x >= ceil(edge) (searching floats in
            edges = np.ceil(edges).astype(x.dtype)  # integers would copy them as floats)
        bounds = np.searchsorted(x, edges, side="left")
    else:  # every point at one x: buckets of equal count instead
        bounds = (np.arange(1, buckets, dtype=np.int64) * n + buckets - 1) // buckets
    starts = np.unique(np.concatenate((np.zeros(1, dtype=np.int64),
                                       bounds.astype(np.int64))))
    starts = starts[starts < n]  # the non-empty buckets
    ends = np.append(starts[1:], n)
    picks = [starts, ends - 1]
    if n // starts.size >= SLICED:
        spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
        lows = [s + int(y[s:e].argmin()) for s, e in spans]
        highs = [s + int(y[s:e].argmax()) for s, e in spans]
        picks += [np.array(lows, dtype=np.int64), np.array(highs, dtype=np.int64)]
    else:
        segment = np.repeat(np.arange(starts.size, dtype=np.int64), ends - starts)
        for reduce in (np.minimum, np.maximum):
            extreme = reduce.reduceat(y, starts)
            at = np.flatnonzero(y == extreme[segment])
            seg = segment[at]
            first = np.ones(at.size, dtype=bool)  # the first extreme of each bucket
            first[1:] = seg[1:] != seg[:-1]
            picks.append(at[first])
    return np.unique(np.concatenate(picks))
