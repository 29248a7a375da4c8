"""The web UI's history answer (section ``ui``, issue 14): downsampling, then a real run.

1. ``gittrack.ui.downsample`` alone: M4 of a 1,000,000- and a 10,000,000-point random walk to
   2,000 points (the first call, then the median of ``ctx.repeats``), in this process, numpy
   arrays already in memory. Target: 10,000,000 points under 1 s.
2. ``Reader.history`` (what ``GET /api/runs/{id}/history`` answers) of a run of
   1,000,000 steps (``--quick``: 300,000) logged with ``gittrack.log``: the first request
   (reads the Parquet chunks), a second (the history is cached by commit), and a zoom on 0.1% of
   the steps at full resolution. No HTTP: the app adds JSON encoding of 2,000 points per key.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Context, Target, first_and_median, fmt_s, table


def _downsample(n: int, repeats: int) -> tuple[float, float, int, bool]:
    import numpy as np

    from gittrack.ui.downsample import finite_sorted, m4

    rng = np.random.default_rng(0)
    x = np.arange(n, dtype=np.float64)
    y = rng.standard_normal(n).cumsum()

    def once() -> Any:
        xs, ys = finite_sorted(x, y)
        return ys[m4(xs, ys, 2_000)]

    first, med, kept = first_and_median(once, repeats)
    exact = bool(kept.min() == y.min() and kept.max() == y.max())
    return first, med, int(kept.size), exact


def _run_history(ctx: Context, steps: int) -> dict[str, float]:
    import gittrack
    from bench.common import make_repo
    from gittrack.ui.data import Reader

    repo = make_repo(ctx.scratch("ui", "repo"))
    run = gittrack.init(repo=str(repo), settings={"quiet": True, "checkpoint_interval": 30})
    for i in range(steps):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    reader = Reader(str(repo))
    t0 = time.perf_counter()
    body = reader.history(run.id, ["loss"])
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    reader.history(run.id, ["loss"])
    cached = time.perf_counter() - t0
    t0 = time.perf_counter()
    zoom = reader.history(run.id, ["loss"], start=steps * 0.5, end=steps * 0.501)
    zoomed = time.perf_counter() - t0
    return {"first": first, "cached": cached, "zoom": zoomed,
            "count": body["series"]["loss"]["count"],
            "points": len(body["series"]["loss"]["x"]),
            "zoom_points": len(zoom["series"]["loss"]["x"])}


def run(ctx: Context) -> None:
    ctx.out("## Web UI: downsampled history (M4, 2,000 points)")
    rows = []
    ten_m = None
    for n in (1_000_000, 10_000_000):
        ctx.progress(f"ui: downsample {n:,} points")
        first, med, kept, exact = _downsample(n, ctx.repeats)
        rows.append([f"M4 of {n:,} points", fmt_s(first), fmt_s(med), f"{kept:,}",
                     "yes" if exact else "NO"])
        if n == 10_000_000:
            ten_m = (med, exact)
    ctx.out(table(["series", "first", "median", "points kept", "min and max kept"], rows))
    steps = 300_000 if ctx.quick else 1_000_000
    ctx.progress(f"ui: a run of {steps:,} steps")
    res = _run_history(ctx, steps)
    ctx.out(table(["Reader.history of a run", "time", "points"], [
        [f"first request, {res['count']:,} steps (reads Parquet)", fmt_s(res["first"]),
         f"{res['points']:,}"],
        ["same again (history cached by commit)", fmt_s(res["cached"]), f"{res['points']:,}"],
        ["zoom on 0.1% of the steps, full resolution", fmt_s(res["zoom"]),
         f"{res['zoom_points']:,}"],
    ]))
    ctx.out("  In-process, numpy arrays in memory for M4; the machine was shared with other "
            "work while measuring.")
    if ten_m is not None:
        ctx.targets.append(Target("UI downsampling of 10,000,000 points < 1 s",
                                  f"{fmt_s(ten_m[0])} (extremes kept: {ten_m[1]})",
                                  ten_m[0] < 1.0 and ten_m[1]))
