"""Peak memory of logging N steps × 10 keys, in a fresh process per measurement.

Baseline: the RSS after ``import gittrack`` (and numpy, which generates the values) and after
the value generator made its first block, just before ``init()``. Then the high-water mark is
reset (``/proc/self/clear_refs``), the run logs every step and finishes, and the figure is the
high-water mark (``VmHWM``, what ``getrusage().ru_maxrss`` reports) minus that baseline. Done at
two step counts, 10× apart, to show whether memory grows with the steps. pyarrow, which gittrack
imports at its first checkpoint, is part of the figure; its import alone is shown for scale.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from bench.common import (
    KEYS,
    Context,
    Target,
    iter_rows,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
    run_worker,
    table,
)
from bench.log_overhead import make_tracker

FLAT_FACTOR = 1.5  # "flat": the peak at 10× the steps is at most this times the smaller one


def worker_memory(args: dict[str, Any]) -> dict[str, Any]:
    import numpy  # noqa: F401  (part of the baseline: it generates the values)

    tracker = make_tracker(args["tracker"], args.get("settings"))  # imports gittrack
    if args.get("preimport"):  # what gittrack's first checkpoint imports, before the baseline
        import pyarrow as pa
        import pyarrow.parquet

        pa.array([1.0, None])  # imports pandas when it is installed
    steps = int(args["steps"])
    rows = iter_rows(steps, "mixed")
    first = next(rows)
    baseline = rss_mb()
    reset = reset_peak_rss()
    tracker.start(Path(args["workdir"]), "run")
    log = tracker.log_fn()
    t0 = time.perf_counter()
    for step, row in enumerate(itertools.chain([first], rows)):
        log(dict(zip(KEYS, row, strict=True)), step)
    loop_s = time.perf_counter() - t0
    tracker.finish()
    result = {"steps": steps, "baseline_mb": baseline, "peak_mb": peak_rss_mb(),
              "after_mb": rss_mb(), "reset": reset, "loop_s": loop_s}
    if hasattr(tracker, "info"):
        result.update(tracker.info())
    return result


def worker_import_cost(args: dict[str, Any]) -> dict[str, Any]:
    import sys

    import gittrack  # noqa: F401

    before = rss_mb()
    import pyarrow as pa
    import pyarrow.parquet

    after_import = rss_mb()
    pa.array([1.0, None])  # what a checkpoint does; imports pandas if it is installed
    return {"pyarrow_mb": after_import - before, "array_mb": rss_mb() - after_import,
            "pandas": "pandas" in sys.modules}


def run(ctx: Context) -> None:
    # Both counts pass gittrack's checkpoint_rows (50,000), so both include checkpoints.
    small, large = (100_000, 300_000) if ctx.quick else (100_000, 1_000_000)
    ctx.out(f"## peak memory: {small:,} and {large:,} steps × 10 keys")
    variants = [
        ("jsonl", "JSON line per call (floor)", {}, (small, large)),
        ("gittrack", "gittrack", {}, (small, large)),
        ("gittrack", "gittrack, pyarrow+pandas imported before baseline",
         {"preimport": True}, (small, large)),
        ("gittrack", "same, settings checkpoint_rows=10,000",
         {"preimport": True, "settings": {"checkpoint_rows": 10_000}}, (large,)),
    ]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for tracker, label, extra, counts in variants:
        for steps in counts:
            ctx.progress(f"memory: {label}, {steps:,} steps")
            workdir = ctx.scratch("memory", f"{len(results)}-{tracker}-{steps}")
            results[label, steps] = run_worker(
                "memory", {"tracker": tracker, "steps": steps, "workdir": str(workdir),
                           **extra}, cwd=workdir)
    rows = []
    for (label, steps), res in results.items():
        if "error" in res:
            rows.append([label, f"{steps:,}", "failed", "", "", "", ""])
            ctx.out(f"  note: {label} at {steps:,} steps failed: {res['error']}")
            continue
        delta = res["peak_mb"] - res["baseline_mb"]
        res["delta_mb"] = delta
        floor = results.get(("JSON line per call (floor)", steps), {})
        versus = "" if label.startswith("JSON") or "peak_mb" not in floor else (
            f"+{delta - (floor['peak_mb'] - floor['baseline_mb']):.1f} MB over floor")
        rows.append([label, f"{steps:,}", f"{delta:.1f} MB", f"{res['baseline_mb']:.1f} MB",
                     f"{res['after_mb'] - res['baseline_mb']:.1f} MB",
                     f"{res['loop_s'] / steps * 1e6:.1f}", versus])
    ctx.out(table(["tracker", "steps", "peak − baseline", "baseline RSS", "after finish",
                   "loop µs/step", "vs floor"], rows))
    cost = run_worker("import_cost", {})
    if "pyarrow_mb" in cost:
        pandas = (" (its first pa.array() imports pandas, which is installed here)"
                  if cost["pandas"] else "")
        ctx.out(f"  for scale: importing pyarrow (+ pyarrow.parquet) after gittrack adds "
                f"{cost['pyarrow_mb']:.1f} MB of RSS and its first pa.array() "
                f"{cost['array_mb']:.1f} MB more{pandas}; gittrack imports pyarrow at its "
                "first checkpoint (inside its figure) but builds arrays from numpy buffers, "
                "which does not import pandas.")
    if not all(r.get("reset") for r in results.values() if "error" not in r):
        ctx.out("  note: /proc/self/clear_refs unavailable: the peak may include import peaks.")
    ctx.out("  'loop µs/step' is the whole loop (value generation included), not log() alone.")
    ours_small = results.get(("gittrack", small), {})
    ours_large = results.get(("gittrack", large), {})
    ctx.out("  the target is judged on the 'gittrack' rows (baseline: after `import gittrack`, "
            "as asked); the other rows split the figure into imports and logging.")
    ctx.data["history_run"] = ours_large if "repo" in ours_large else None
    if "delta_mb" not in ours_small or "delta_mb" not in ours_large:
        ctx.targets.append(Target(f"peak memory, {large:,} steps < 150 MB and flat",
                                  "not measured", None))
        return
    growth = ours_large["delta_mb"] / max(ours_small["delta_mb"], 1e-9)
    ctx.out(f"  flat = the {large:,}-step peak is at most {FLAT_FACTOR}× the {small:,}-step peak "
            f"(measured {growth:.2f}×).")
    ok = ours_large["delta_mb"] < 150 and growth <= FLAT_FACTOR
    ctx.targets.append(Target(
        f"peak memory, {large:,} steps × 10 keys < 150 MB and flat",
        f"{ours_large['delta_mb']:.1f} MB ({growth:.2f}× the {small:,}-step "
        f"{ours_small['delta_mb']:.1f} MB)", ok))
