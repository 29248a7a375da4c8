"""Part of section ``media`` (issue 11): a 256×256 RGB noise image logged every step.

``run.log({"img": gittrack.Image(arr)}, step=i)`` against wandb offline's
``run.log({"img": wandb.Image(arr)}, step=i)`` in the same bench run, each in a fresh process
(``python -m bench.media_images``): the median cost of one call (the ``Image`` made and logged,
a fresh noise array per step, made outside the timed region), the time ``finish()`` takes to
return, and the bytes each leaves on disk for the same images.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import competitors
from bench.common import (
    Context,
    Target,
    answer,
    fmt_mb,
    fmt_ratio,
    make_repo,
    median,
    percentile,
    python_result,
    table,
    worker_env,
)

SIZE = (256, 256, 3)
FULL_STEPS, QUICK_STEPS = 1_000, 200


def disk_bytes(path: Path) -> int:
    """Bytes of the files under ``path``, a file with several hard links counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for item in path.rglob("*"):
        st = item.lstat()
        if item.is_file() and not item.is_symlink() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def worker(args: dict[str, Any]) -> dict[str, Any]:
    """One tracker, ``steps`` images: per-call times, finish time, bytes on disk."""
    import numpy as np

    workdir, steps, key = Path(args["workdir"]), int(args["steps"]), args["tracker"]
    rng = np.random.default_rng(0)
    clock = time.perf_counter_ns
    if key == "gittrack":
        import gittrack

        repo = make_repo(workdir / "run")
        before = disk_bytes(repo / ".git")
        run = gittrack.init(project="bench", repo=str(repo), settings={"quiet": True})
        log, Image = run.log, gittrack.Image
    else:
        tracker = competitors.make_tracker("wandb")
        tracker.start(workdir, "run")
        import wandb

        run = tracker.run
        log, Image = run.log, wandb.Image
    times = []
    for i in range(steps):
        arr = rng.integers(0, 256, SIZE, dtype=np.uint8)
        t0 = clock()
        log({"img": Image(arr)}, step=i)
        times.append(clock() - t0)
    t0 = time.perf_counter()
    run.finish()
    finish_s = time.perf_counter() - t0
    times.sort()
    result: dict[str, Any] = {"median_us": percentile(times, 0.5) / 1e3,
                              "p90_us": percentile(times, 0.9) / 1e3,
                              "mean_us": sum(times) / len(times) / 1e3, "finish_s": finish_s,
                              "steps": steps}
    if key == "gittrack":
        git_dir = repo / ".git"
        result.update(bytes=disk_bytes(git_dir) - before,
                      store_bytes=disk_bytes(git_dir / "gittrack" / "blobs"),
                      cache_bytes=disk_bytes(git_dir / "gittrack" / "cache"),
                      objects_bytes=disk_bytes(git_dir / "objects"))
    else:
        result["bytes"] = disk_bytes(workdir / "run")
    return result


def _measure(ctx: Context, key: str, steps: int, rep: int) -> dict[str, Any]:
    workdir = ctx.scratch("media-images", f"{key}-{rep}")
    env: dict[str, str] = {}
    if key == "wandb":
        comp = next(c for c in competitors.COMPETITORS if c.key == "wandb")
        env = comp.environment(workdir)
    args = {"tracker": key, "steps": steps, "workdir": str(workdir)}
    return python_result(["-m", "bench.media_images", json.dumps(args)], env=worker_env(env),
                         cwd=workdir)


def run(ctx: Context) -> None:
    steps = QUICK_STEPS if ctx.quick else FULL_STEPS
    ctx.out(f"## Images: a {SIZE[0]}×{SIZE[1]} RGB noise image logged every step, "
            f"{steps:,} steps")
    keys = ["gittrack"]
    wandb = next(c for c in competitors.COMPETITORS if c.key == "wandb")
    if wandb.installed():
        keys.append("wandb")
    else:
        ctx.out("  note: wandb is not installed (the `bench` extra): no comparison")
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for rep in range(ctx.repeats):
        for key in keys:  # interleaved: load changes hit both alike
            ctx.progress(f"media images: {key}, {steps:,} steps, run {rep + 1}/{ctx.repeats}")
            res = _measure(ctx, key, steps, rep)
            if "error" in res:
                ctx.out(f"  note: {key} failed in run {rep + 1}: {res['error']}")
            else:
                found[key].append(res)

    def med(key: str, field: str) -> float | None:
        values = [r[field] for r in found.get(key, []) if field in r]
        return median(values) if values else None

    labels = {"gittrack": "gittrack", "wandb": f"wandb {wandb.version()} offline"}
    rows = []
    for key in keys:
        if not found[key]:
            continue
        rows.append([labels[key], f"{med(key, 'median_us') or 0:,.0f}",
                     f"{med(key, 'p90_us') or 0:,.0f}", f"{med(key, 'mean_us') or 0:,.0f}",
                     f"{med(key, 'finish_s') or 0:.2f}", fmt_mb(med(key, "bytes"))])
    ctx.out(table(["tool", "µs/call (median)", "p90", "mean", "finish() s", "on disk"], rows))
    ours, theirs = med("gittrack", "median_us"), med("wandb", "median_us")
    if found["gittrack"]:
        ctx.out(f"  gittrack on disk (.git growth, hard links counted once): the project's "
                f"local store {fmt_mb(med('gittrack', 'store_bytes'))}, the local plaintext "
                f"cache {fmt_mb(med('gittrack', 'cache_bytes'))} (the same files again: reads "
                "need no download and no decryption), git objects "
                f"{fmt_mb(med('gittrack', 'objects_bytes'))}; wandb: its run folder.")
    ctx.out(f"  µs/call: one `log({{'img': Image(arr)}}, step=i)` with the Image made in the "
            f"call, median over {steps:,} calls, median of {ctx.repeats} run(s), each in a "
            "fresh process; encoding (PNG) happens in gittrack's checkpoint thread, so "
            "finish() includes what is left of it. Other helpers share this machine: figures "
            "are noisy.")
    ratio = theirs / ours if ours and theirs else None
    ctx.targets.append(Target(
        "log() of a 256×256 image ≥ 10× cheaper per call than wandb offline",
        f"{fmt_ratio(ratio)} ({ours:,.0f} vs {theirs:,.0f} µs/call)"
        if ratio and ours and theirs else ("wandb not measured" if ours else "gittrack failed"),
        None if ratio is None else ratio >= 10))


if __name__ == "__main__":
    sys.exit(answer(worker, sys.argv[1] if len(sys.argv) > 1 else "{}"))
