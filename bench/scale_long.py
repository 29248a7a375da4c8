"""Section ``scale`` (issue 10), part: long runs: 1,000,000 steps checkpointed 8,640 times.

A 24-hour run at the default 10 s interval makes 8,640 checkpoints. Simulated quickly: the
real ``Run`` with a checkpoint interval of an hour, its checkpoint called directly after
every ~116 steps (the code that writes chunks, merges them and commits is what is measured;
only the waiting is skipped). Beside it, the same rows logged by a run checkpointed once.
Figures: loose objects written before ``git gc`` (by type), the commit time of the first
and the last 100 checkpoints, ``history()`` beside pyarrow reading one Parquet file of the
same table, the chunks the run holds, and the WAL and RSS at the start, middle and end.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    KEYS,
    Context,
    Target,
    answer,
    dir_bytes,
    first_and_median,
    fmt_mb,
    fmt_ratio,
    fmt_s,
    iter_rows,
    make_repo,
    python_result,
    rss_mb,
    table,
    worker_env,
)

REPEATS = 3
EDGE = 100  # checkpoints timed at each end


# -- worker side ------------------------------------------------------------------------------

def loose_objects(repo: Path) -> dict[str, int]:
    """Bytes on disk of the loose objects of ``repo``, by type (what a run wrote before
    ``git gc`` packs it)."""
    files = {p.parent.name + p.name: p.stat().st_size
             for p in (repo / ".git" / "objects").glob("[0-9a-f][0-9a-f]/*")}
    out = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-check=%(objectname) "
                          "%(objecttype)"], input="\n".join(files), capture_output=True,
                         text=True, check=True).stdout
    sizes: dict[str, int] = {"total": 0, "tree": 0, "blob": 0, "commit": 0, "count": 0}
    for line in out.splitlines():
        oid, kind = line.split()
        sizes[kind] = sizes.get(kind, 0) + files[oid]
        sizes["total"] += files[oid]
        sizes["count"] += 1
    return sizes


def minus(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items()}


def worker_long_run(args: dict[str, Any]) -> dict[str, Any]:
    import os

    import gittrack
    from gittrack.git.repo import gittrack_dir
    from gittrack.runs import compaction, layout
    from gittrack.runs.wal import wal_root

    steps, checkpoints, base = args["steps"], args["checkpoints"], Path(args["tmp"])
    settings = {"checkpoint_interval": 3600, "quiet": True}

    # the long run
    repo = make_repo(base / "long")
    os.chdir(repo)
    before = loose_objects(repo)
    run = gittrack.init(settings=settings)
    import pygit2

    wal = wal_root(gittrack_dir(pygit2.Repository(str(repo))))
    marks = {0: "start", checkpoints // 2: "middle", checkpoints - 1: "end"}
    samples: dict[str, dict[str, float]] = {}
    times: list[float] = []
    done = 0
    for i, row in enumerate(iter_rows(steps)):
        run.log(dict(zip(KEYS, row, strict=True)), step=i)
        if i + 1 >= (done + 1) * steps // checkpoints:
            if done in marks:
                samples[marks[done]] = {"wal": dir_bytes(wal), "rss": rss_mb()}
            t0 = time.perf_counter()
            run._checkpoint()
            times.append(time.perf_counter() - t0)
            done += 1
    run.finish()
    long_bytes = minus(loose_objects(repo), before)

    # the same rows, checkpointed once
    once = make_repo(base / "once")
    os.chdir(once)
    before = loose_objects(once)
    # once: no checkpoint before finish() (the buffer's row bound would make one every
    # 20,000 rows, 50 in all, and the baseline would hold merges of its own)
    once_run = gittrack.init(settings={**settings, "checkpoint_rows": steps + 1})
    for i, row in enumerate(iter_rows(steps)):
        once_run.log(dict(zip(KEYS, row, strict=True)), step=i)
    once_run.finish()
    once_bytes = minus(loose_objects(once), before)

    os.chdir(repo)

    ref = layout.run_ref(run.id)
    view = lambda: gittrack.Api(str(repo)).runs()[0]  # noqa: E731
    first, med, frame = first_and_median(lambda: view().history(), REPEATS)
    _, med_arrow, whole = first_and_median(lambda: view().history(format="arrow"), REPEATS)

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(whole, sink, compression="zstd")
    data = sink.getvalue()
    _, base_pandas, _ = first_and_median(lambda: pq.read_table(io.BytesIO(data)).to_pandas(),
                                         REPEATS)
    _, base_arrow, _ = first_and_median(lambda: pq.read_table(io.BytesIO(data)), REPEATS)
    git_repo = pygit2.Repository(str(repo))
    tree = git_repo.revparse_single(ref).peel(pygit2.Commit).tree
    chunks = compaction.list_chunks(git_repo, tree, layout.HISTORY_DIR)
    expected = list(range(steps))
    return {
        "once": once_bytes, "long": long_bytes, "times": times, "samples": samples,
        "first_s": first, "median_s": med, "arrow_s": med_arrow,
        "base_pandas_s": base_pandas, "base_arrow_s": base_arrow, "rows": len(frame),
        "right": whole.column("_step").to_pylist() == expected,
        "chunks": len(chunks), "folders": sorted({c.folder for c in chunks}),
        "parquet_bytes": len(data), "checkpoints": len(times),
    }


# -- parent side ------------------------------------------------------------------------------

def run(ctx: Context) -> None:
    steps, checkpoints = (100_000, 864) if ctx.quick else (1_000_000, 8_640)
    ctx.out(f"## scale: long runs: {steps:,} steps checkpointed {checkpoints:,} times")
    ctx.progress(f"scale: a run of {steps:,} steps, {checkpoints:,} checkpoints")
    res = python_result(["-m", "bench.scale_long", json.dumps(
        {"steps": steps, "checkpoints": checkpoints, "tmp": str(ctx.scratch("scale_long"))})],
        env=worker_env(), timeout=7200)
    names = ["long run: loose objects ≤ 2× the same data checkpointed once",
             "long run: commit time of the last 100 checkpoints ≤ 1.5× the first 100",
             f"long run: history() of {steps:,} steps < 1 s",
             "long run: WAL and RSS flat from start to end"]
    if "error" in res:
        ctx.out(f"  FAILED: {res['error']}")
        for name in names:
            ctx.targets.append(Target(name, "failed: " + res["error"], False))
        return
    once, long = res["once"], res["long"]
    ratio = long["total"] / once["total"]
    ctx.out(table(["loose objects before git gc", "total", "trees", "blobs", "commits",
                   "objects"], [
        [f"{res['checkpoints']:,} checkpoints", fmt_mb(long["total"]), fmt_mb(long["tree"]),
         fmt_mb(long["blob"]), fmt_mb(long["commit"]), f"{long['count']:,}"],
        ["checkpointed once (same rows)", fmt_mb(once["total"]), fmt_mb(once["tree"]),
         fmt_mb(once["blob"]), fmt_mb(once["commit"]), f"{once['count']:,}"],
        ["ratio", fmt_ratio(ratio), "", fmt_ratio(long["blob"] / once["blob"]), "", ""],
    ]))
    times = res["times"]
    head, tail_ = statistics.median(times[:EDGE]), statistics.median(times[-EDGE:])
    ctx.out(table(["checkpoint commit time", "median", "p90", "ratio"], [
        [f"first {EDGE}", fmt_s(head), fmt_s(sorted(times[:EDGE])[EDGE * 9 // 10]), "1×"],
        [f"last {EDGE}", fmt_s(tail_), fmt_s(sorted(times[-EDGE:])[EDGE * 9 // 10]),
         fmt_ratio(tail_ / head)],
        ["all", fmt_s(statistics.median(times)), "", ""],
    ]))
    ctx.out(table(["read", "median", "ratio"], [
        ["Api().runs()[0].history() → DataFrame", fmt_s(res["median_s"]),
         f"{fmt_ratio(res['median_s'] / res['base_pandas_s'])} pyarrow"],
        ["...history(format='arrow') → Table", fmt_s(res["arrow_s"]),
         f"{fmt_ratio(res['arrow_s'] / res['base_arrow_s'])} pyarrow"],
        ["pyarrow: one Parquet file in memory → DataFrame", fmt_s(res["base_pandas_s"]), "1×"],
        ["pyarrow: one Parquet file in memory → Table", fmt_s(res["base_arrow_s"]), "1×"],
    ]))
    samples = res["samples"]
    ctx.out(table(["at checkpoint", "WAL", "RSS"], [
        [k, fmt_mb(samples[k]["wal"]), f"{samples[k]['rss']:.0f} MB"]
        for k in ("start", "middle", "end") if k in samples]))
    ctx.out(f"  {res['rows']:,} rows in {res['chunks']} chunks (folders "
            f"{', '.join(res['folders'])}); one Parquet file of them: "
            f"{res['parquet_bytes'] / 1e6:.1f} MB. Loose objects: bytes on disk of the files "
            f"under .git/objects the run wrote. history(): first call {fmt_s(res['first_s'])}, "
            f"then the median of {REPEATS}.")
    ctx.out()
    wal_flat = samples["end"]["wal"] <= 2 * samples["start"]["wal"] + 65536
    rss_flat = samples["end"]["rss"] <= samples["middle"]["rss"] * 1.2 + 20
    figures = [
        (ratio <= 2, f"{fmt_ratio(ratio)} ({fmt_mb(long['total'])} vs {fmt_mb(once['total'])}; "
                     f"trees {fmt_mb(long['tree'])})"),
        (tail_ / head <= 1.5, f"{fmt_ratio(tail_ / head)} ({fmt_s(tail_)} vs {fmt_s(head)})"),
        (res["median_s"] < 1 and res["right"] and res["rows"] == steps,
         f"{fmt_s(res['median_s'])} from {res['chunks']} chunks (pyarrow, one file: "
         f"{fmt_s(res['base_pandas_s'])})" + ("" if res["right"] else "; WRONG rows")),
        (wal_flat and rss_flat, "WAL " + " → ".join(fmt_mb(samples[k]["wal"]) for k in samples)
         + "; RSS " + " → ".join(f"{samples[k]['rss']:.0f} MB" for k in samples)),
    ]
    for name, (ok, figure) in zip(names, figures, strict=True):
        ctx.targets.append(Target(name, figure, ok))


if __name__ == "__main__":
    sys.exit(answer(worker_long_run, sys.argv[1] if len(sys.argv) > 1 else "{}"))
