"""Reading a wide run: ``history()`` of a run with 10,000 keys (issue 8).

The run is made with the real API: 20 sessions of one run (``init(id=..., resume="allow")``),
each logging 5 steps of its own 500 keys, so the history is 20 Parquet chunks whose key sets
all differ (the case where finding columns by name made reading quadratic: 10,000 keys took
39-60 s). ``gittrack.Api(repo).run(id).history(format="arrow")`` (imports done first; a
first call, then the median of 5 rounds, each reader taking its turn in every round) is
measured against pyarrow alone reading the same chunk bytes (already in memory) with
``pyarrow.parquet.read_table`` and joining them with
``pyarrow.concat_tables(promote_options="default")``, in the same process; and against
``ParquetFile(...).read()`` in place of ``read_table`` (what gittrack calls: it skips
``pyarrow.dataset``), the floor.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from bench.common import Context, Target, fmt_ratio, fmt_s, make_repo, run_worker, table
from bench.history import chunk_entries

REPEATS = 5
KEYS, CHUNKS, STEPS = 10_000, 20, 5
TARGET_RATIO = 3.0  # gittrack adds checks and type widening on top of pyarrow, not a 10× cost


def worker_make_wide(args: dict[str, Any]) -> dict[str, Any]:
    import gittrack

    per = args["keys"] // args["chunks"]
    run_id = None
    t0 = time.perf_counter()
    for chunk in range(args["chunks"]):
        run = gittrack.init(id=run_id, resume="allow" if run_id else None, repo=args["repo"],
                            settings={"quiet": True, "checkpoint_interval": 3600})
        run_id = run.id
        first = chunk * per
        for step in range(args["steps"]):
            run.log({f"layer{chunk % 7}/metric_{k:06d}": float(k + step)
                     for k in range(first, first + per)})
        run.finish()
    return {"seconds": time.perf_counter() - t0, "run_id": run_id}


def _interleaved(fns: dict[str, Any], repeats: int) -> tuple[dict[str, float], dict[str, Any]]:
    """The median time of each function over ``repeats`` rounds, taking turns (so a slower
    moment of a shared machine, or a fragmented heap, weighs on all of them alike), after a
    first call of each; the previous result is freed outside the timed part."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for round_ in range(repeats + 1):
        for name, fn in fns.items():
            results[name] = None
            gc.collect()
            t0 = time.perf_counter()
            results[name] = fn()
            if round_:
                times[name].append(time.perf_counter() - t0)
            else:
                times[f"{name} first"] = [time.perf_counter() - t0]
    return {name: statistics.median(t) for name, t in times.items()}, results


def worker_read_wide(args: dict[str, Any]) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pygit2

    import gittrack

    repo, run_id = args["repo"], args["run_id"]
    view = gittrack.Api(repo=repo).run(run_id)
    git_repo = pygit2.Repository(repo)
    tree = git_repo.revparse_single(f"refs/gittrack/runs/{run_id}").peel(pygit2.Commit).tree
    data = [git_repo.odb.read(e.id)[1] for e in chunk_entries(git_repo, tree)]

    def arrow_alone() -> Any:
        return pa.concat_tables([pq.read_table(pa.BufferReader(b)) for b in data],
                                promote_options="default")

    def files_alone() -> Any:  # what gittrack uses: no pyarrow.dataset on the way
        return pa.concat_tables([pq.ParquetFile(pa.BufferReader(b)).read() for b in data],
                                promote_options="default")

    times, results = _interleaved({"gittrack": lambda: view.history(format="arrow"),
                                   "read_table": arrow_alone, "ParquetFile": files_alone},
                                  REPEATS)
    return {"first_s": times["gittrack first"], "median_s": times["gittrack"],
            "base_s": times["read_table"], "floor_s": times["ParquetFile"],
            "rows": results["gittrack"].num_rows, "columns": results["gittrack"].num_columns,
            "base_columns": results["read_table"].num_columns,
            "chunks": len(data), "parquet_bytes": sum(len(b) for b in data)}


def run(ctx: Context) -> None:
    ctx.out(f"## history() of a run with {KEYS:,} keys in {CHUNKS} chunks")
    repo = make_repo(ctx.scratch("wide", "repo"))
    ctx.progress(f"wide: making a {KEYS:,}-key run")
    made = run_worker("make_wide", {"repo": str(repo), "keys": KEYS, "chunks": CHUNKS,
                                    "steps": STEPS})
    name = f"history() of {KEYS:,} keys within {TARGET_RATIO:g}× pyarrow alone"
    if "error" in made:
        ctx.out(f"  FAILED making the run: {made['error']}")
        ctx.targets.append(Target(name, "not measured", None))
        return
    ctx.progress("wide: reading")
    res = run_worker("read_wide", {"repo": str(repo), "run_id": made["run_id"]})
    if "error" in res:
        ctx.out(f"  FAILED: {res['error']}")
        ctx.targets.append(Target(name, "failed: " + res["error"], False))
        return
    ratio = res["median_s"] / res["base_s"]
    ctx.out(table(["read", "median", "ratio", "notes"], [
        ["gittrack Api(repo).run(id).history(format='arrow')", fmt_s(res["median_s"]),
         f"{fmt_ratio(ratio)} pyarrow", f"first call {fmt_s(res['first_s'])}; "
         f"{fmt_ratio(res['median_s'] / res['floor_s'])} ParquetFile"],
        ["pyarrow alone: read_table + concat_tables", fmt_s(res["base_s"]), "1×", ""],
        ["pyarrow alone: ParquetFile.read + concat_tables", fmt_s(res["floor_s"]),
         fmt_ratio(res["floor_s"] / res["base_s"]), "no pyarrow.dataset: the floor"],
    ]))
    ctx.out(f"  {res['rows']:,} rows × {res['columns']:,} columns (pyarrow: "
            f"{res['base_columns']:,}) from {res['chunks']} Parquet chunks "
            f"({res['parquet_bytes'] / 1e6:.1f} MB); run made in {made['seconds']:.1f} s. "
            f"In-process, imports done first; median of {REPEATS} interleaved rounds after a "
            "first call.")
    right = res["columns"] == KEYS + 3 and res["rows"] == CHUNKS * STEPS
    ctx.targets.append(Target(
        name, f"{fmt_s(res['median_s'])}, {fmt_ratio(ratio)} pyarrow alone "
              f"({fmt_s(res['base_s'])})" + ("" if right else "; WRONG shape"),
        ratio <= TARGET_RATIO and right))
