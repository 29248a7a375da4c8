"""The web UI's history answer (section ``ui``, issue 14): downsampling, then a real run.

1. ``gittrack.ui.downsample`` alone: M4 of a 1,000,000- and a 10,000,000-point random walk to
   2,000 points (the first call, then the median of ``ctx.repeats``), in this process, numpy
   arrays already in memory. Target: 10,000,000 points under 1 s.
2. ``Reader.history`` (what ``GET /api/runs/{id}/history`` answers) of a run of
   10,000,000 steps (``--quick``: 300,000) logged with ``gittrack.log``: the first request
   (reads the Parquet chunks), a second (the history is cached by commit), and a zoom on 0.1% of
   the steps at full resolution. No HTTP: the app adds JSON encoding of 2,000 points per key.
3. In a real browser (Debian's chromium through Playwright, when installed): `gittrack ui` on
   a repository of 10,000 runs (``--quick``: 2,000; written with ``git fast-import``, as
   ``bench/scale_data.py`` does) plus the long run of 2.: the time until the runs table shows
   (first load, which fills the listing cache, then again), the time from opening the long
   run's page until its chart is drawn, and the server's resident memory after both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import ui_peers  # TensorBoard and MLflow beside gittrack, same metric
from bench.common import Context, Target, first_and_median, fmt_s, table

CHROMIUM = "/usr/bin/chromium"


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


def _run_history(ctx: Context, steps: int) -> dict[str, Any]:
    import gittrack
    from bench.common import make_repo
    from gittrack.ui.data import Reader

    repo = make_repo(ctx.scratch("ui", "repo"))
    if os.path.exists(CHROMIUM):  # the browser part lists these runs too
        from bench.scale_data import make_runs

        make_runs(repo, 2_000 if ctx.quick else 10_000)
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
    return {"first": first, "cached": cached, "zoom": zoomed, "repo": repo, "run": run.id,
            "count": body["series"]["loss"]["count"],
            "points": len(body["series"]["loss"]["x"]),
            "zoom_points": len(zoom["series"]["loss"]["x"])}


def _browser(repo: Path, run_id: str) -> dict[str, Any]:
    import psutil
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"]
    with subprocess.Popen([sys.executable, "-m", "gittrack", "ui", "--port", "0",
                           "--no-browser"], cwd=repo, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", proc.stdout.readline())
            assert found, "gittrack ui printed no URL"
            base = found.group(1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                times = []
                for _ in range(2):
                    t0 = time.perf_counter()
                    page.goto(base)
                    page.wait_for_selector("body[data-ready='1'] #runs tbody tr",
                                           timeout=300_000)
                    times.append(time.perf_counter() - t0)
                    page.goto("about:blank")
                t0 = time.perf_counter()
                page.goto(f"{base}#/run/{run_id}")
                page.wait_for_selector(".chart[data-key='loss'] canvas", timeout=300_000)
                first_chart = time.perf_counter() - t0
                listed = page.evaluate("fetch('/api/runs').then(r => r.json())"
                                       ".then(b => b.runs.length)")
                browser.close()
            rss = psutil.Process(proc.pid).memory_info().rss / 1e6
        finally:
            proc.terminate()
            proc.wait()
    return {"table_first": times[0], "table_again": times[1], "first_chart": first_chart,
            "rss_mb": rss, "runs": int(listed)}


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
    steps = 300_000 if ctx.quick else 10_000_000
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
    if not os.path.exists(CHROMIUM):
        ctx.out(f"  browser part skipped: no {CHROMIUM}")
    else:
        ctx.progress("ui: chromium")
        b = _browser(res["repo"], res["run"])
        ctx.out(table(["in chromium (gittrack ui)", "time"], [
            [f"runs table of {b['runs']:,} runs, first load (fills the listing cache)",
             fmt_s(b["table_first"])],
            ["runs table again", fmt_s(b["table_again"])],
            [f"run page of {res['count']:,} steps until its chart is drawn",
             fmt_s(b["first_chart"])],
            ["server resident memory afterwards", f"{b['rss_mb']:.0f} MB"],
        ]))
        ctx.targets.append(Target(
            f"UI: first chart of a {res['count']:,}-point metric < 1 s",
            fmt_s(b["first_chart"]), b["first_chart"] < 1.0))
    ui_peers.run(ctx, res["repo"], res["run"], res["count"], CHROMIUM)
    if ten_m is not None:
        ctx.targets.append(Target("UI downsampling of 10,000,000 points < 1 s",
                                  f"{fmt_s(ten_m[0])} (extremes kept: {ten_m[1]})",
                                  ten_m[0] < 1.0 and ten_m[1]))
