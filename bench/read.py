"""Reading: ``gittrack runs`` over many runs, and ``history()`` of a long run.

- ``python -m gittrack -C REPO runs`` (a fresh process each time, as a user runs it) against
  ``git for-each-ref refs/gittrack/runs`` in the same repository; one warm-up, then the median
  of 5. The runs are made with the real API (``init``, 20 steps of 3 keys, ``finish``) by two
  processes at once. Also ``Api(repo).runs()`` in-process with name/state/summary of each, and
  both again after ``git pack-refs --all``.
- ``gittrack.Api(repo).runs()[0].history()`` of the run of the memory section (imports done
  first; the first call, then the median of 5) against pyarrow alone reading the same Parquet
  bytes (already in memory) and concatenating them, to a Table and to a DataFrame.
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import Context, Target, fmt_ratio, fmt_s, git, run_worker, table, time_command

REPEATS = 5


# -- worker side ------------------------------------------------------------------------------

def worker_make_runs(args: dict[str, Any]) -> dict[str, Any]:
    import gittrack

    t0 = time.perf_counter()
    for i in range(args["start"], args["start"] + args["count"]):
        run = gittrack.init(
            project="bench", name=f"run-{i:04d}", repo=args["repo"],
            config={"lr": 10 ** -(1 + i % 4), "batch_size": 32 << (i % 3), "seed": i},
            tags=["sweep", f"shard-{i % 8}"], settings={"quiet": True},
        )
        for step in range(20):
            run.log({"loss": 2.0 / (step + 1) + i * 1e-4, "acc": 1 - 1 / (step + 2),
                     "lr": 1e-3})
        run.finish()
    return {"seconds": time.perf_counter() - t0, "count": args["count"]}


def _timed(fn: Any, repeats: int) -> tuple[float, float, Any]:
    """(first call, median of ``repeats`` more, last result)."""
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), result


def worker_list_api(args: dict[str, Any]) -> dict[str, Any]:
    import gittrack

    def listing() -> int:
        views = gittrack.Api(repo=args["repo"]).runs()
        return len([(v.id, v.name, v.state, v.summary) for v in views])

    first, med, count = _timed(listing, REPEATS)
    return {"first_s": first, "median_s": med, "runs": count}


def worker_read_history(args: dict[str, Any]) -> dict[str, Any]:
    import pandas  # noqa: F401  (imports are outside the timed part, for both sides)
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pygit2

    import gittrack

    repo = args["repo"]
    first, med, df = _timed(lambda: gittrack.Api(repo=repo).runs()[0].history(), REPEATS)
    _, med_arrow, tbl = _timed(
        lambda: gittrack.Api(repo=repo).runs()[0].history(format="arrow"), REPEATS)
    git_repo = pygit2.Repository(repo)
    tree = git_repo.revparse_single(args["ref"]).peel(pygit2.Commit).tree

    def blobs() -> list[bytes]:
        history = git_repo[tree["history"].id]
        return [git_repo[e.id].data for e in sorted(history, key=lambda e: e.name)
                if e.name.endswith(".parquet")]

    data = blobs()

    def arrow_alone() -> Any:
        return pa.concat_tables([pq.read_table(pa.BufferReader(b)) for b in data])

    _, base_arrow, base = _timed(arrow_alone, REPEATS)
    _, base_pandas, _ = _timed(lambda: arrow_alone().to_pandas(), REPEATS)
    _, base_git, _ = _timed(
        lambda: pa.concat_tables([pq.read_table(pa.BufferReader(b)) for b in blobs()])
        .to_pandas(), REPEATS)
    odb = git_repo.odb
    ids = [e.id for e in git_repo[tree["history"].id] if e.name.endswith(".parquet")]
    _, base_odb, _ = _timed(
        lambda: pa.concat_tables([pq.read_table(pa.BufferReader(odb.read(i)[1])) for i in ids])
        .to_pandas(), REPEATS)
    return {
        "base_odb_s": base_odb,
        "first_s": first, "median_s": med, "arrow_s": med_arrow, "rows": len(df),
        "columns": len(df.columns), "arrow_rows": tbl.num_rows, "chunks": len(data),
        "parquet_bytes": sum(len(b) for b in data), "base_rows": base.num_rows,
        "base_arrow_s": base_arrow, "base_pandas_s": base_pandas, "base_git_s": base_git,
    }


# -- parent side ------------------------------------------------------------------------------

def _runs_section(ctx: Context) -> None:
    from bench.common import make_repo

    count = 100 if ctx.quick else 1_000
    ctx.out(f"## `gittrack runs` over {count:,} runs")
    repo = make_repo(ctx.scratch("runs", "repo"))
    ctx.progress(f"runs: creating {count:,} runs with the API (2 processes)")
    half = count // 2
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(
            lambda part: run_worker("make_runs", {"repo": str(repo), "start": part[0],
                                                  "count": part[1]}),
            [(0, half), (half, count - half)]))
    created_s = time.perf_counter() - t0
    errors = [m["error"] for m in made if "error" in m]
    refs = len(git(repo, "for-each-ref", "refs/gittrack/runs").splitlines())
    ctx.out(f"  made {refs:,} runs in {created_s:.1f} s "
            f"({created_s / max(refs, 1) * 2e3:.0f} ms per run per process)"
            + (f"; errors: {errors}" if errors else ""))
    cli = [sys.executable, "-m", "gittrack", "-C", str(repo), "runs"]
    measured: dict[str, dict[str, Any]] = {}
    for phase in ("loose refs", "after git pack-refs --all"):
        if phase != "loose refs":
            git(repo, "pack-refs", "--all")
        ctx.progress(f"runs: timing ({phase})")
        measured[f"cli {phase}"] = time_command(cli, repeats=REPEATS)
        measured[f"git {phase}"] = time_command(
            ["git", "-C", str(repo), "for-each-ref", "refs/gittrack/runs"], repeats=REPEATS)
        measured[f"api {phase}"] = run_worker("list_api", {"repo": str(repo)})
    startup = time_command([sys.executable, "-m", "gittrack", "--version"], repeats=REPEATS)
    bare = time_command([sys.executable, "-c", "pass"], repeats=REPEATS)
    rows = []
    for phase in ("loose refs", "after git pack-refs --all"):
        cli_res, git_res, api = (measured[f"{k} {phase}"] for k in ("cli", "git", "api"))
        base = git_res.get("median")
        if "error" in cli_res:
            rows.append([f"gittrack runs ({phase})", "FAILED: " + cli_res["error"], "", ""])
        else:
            rows.append([f"gittrack runs ({phase})", fmt_s(cli_res["median"]),
                         f"{fmt_ratio(cli_res['median'] / base)} git" if base else "-",
                         f"{cli_res['lines']:,} lines"])
        rows.append([f"git for-each-ref ({phase})", fmt_s(base), "1×",
                     f"{git_res.get('lines', 0):,} refs"])
        if "error" in api:
            rows.append([f"Api().runs() in-process ({phase})", "FAILED: " + api["error"], "", ""])
        else:
            rows.append([f"Api().runs() in-process ({phase})", fmt_s(api["median_s"]),
                         f"{fmt_ratio(api['median_s'] / base)} git" if base else "-",
                         f"{api['runs']:,} runs; first call {fmt_s(api['first_s'])}"])
    for label, res in (("python -m gittrack --version", startup), ("python -c pass", bare)):
        rows.append([label + " (for scale)", fmt_s(res.get("median")), "", ""])
    ctx.out(table(["command", "median wall", "ratio", "notes"], rows))
    ctx.out("  CLI and git rows: wall time of a fresh process (interpreter start included); "
            "Api row: in-process, after imports, reading id, name, state and summary of each run.")
    main = measured["cli loose refs"]
    suffix = "" if count == 1_000 else f" (quick: {count:,} runs)"
    if "error" in main:
        ctx.targets.append(Target(f"`gittrack runs` over 1,000 runs < 1 s{suffix}",
                                  "command failed: " + main["error"], False))
    else:
        ctx.targets.append(Target(f"`gittrack runs` over 1,000 runs < 1 s{suffix}",
                                  f"{fmt_s(main['median'])} (git for-each-ref "
                                  f"{fmt_s(measured['git loose refs'].get('median'))})",
                                  main["median"] < 1.0))


def _history_section(ctx: Context) -> None:
    run = ctx.data.get("history_run")
    steps = 300_000 if ctx.quick else 1_000_000
    ctx.out(f"## history() of a {steps:,}-step × 10-key run")
    if not run:
        ctx.out("  skipped: the memory section's run (which this reads) failed")
        ctx.targets.append(Target(f"history() of {steps:,} steps < 1 s", "not measured", None))
        return
    ctx.progress("read: history()")
    res = run_worker("read_history", {"repo": run["repo"], "ref": run["ref"]})
    if "error" in res:
        ctx.out(f"  FAILED: {res['error']}")
        ctx.targets.append(Target(f"history() of {steps:,} steps < 1 s",
                                  "failed: " + res["error"], False))
        return
    rows = [
        ["gittrack Api(repo).runs()[0].history() → DataFrame", fmt_s(res["median_s"]),
         f"{fmt_ratio(res['median_s'] / res['base_pandas_s'])} pyarrow→DataFrame",
         f"first call {fmt_s(res['first_s'])}"],
        ["gittrack ...history(format='arrow') → Table", fmt_s(res["arrow_s"]),
         f"{fmt_ratio(res['arrow_s'] / res['base_arrow_s'])} pyarrow→Table", ""],
        ["pyarrow alone: bytes in memory → Table", fmt_s(res["base_arrow_s"]), "1×", ""],
        ["pyarrow alone: bytes in memory → DataFrame", fmt_s(res["base_pandas_s"]), "1×", ""],
        ["pygit2 repo[id].data + pyarrow → DataFrame", fmt_s(res["base_git_s"]),
         f"{fmt_ratio(res['base_git_s'] / res['base_pandas_s'])} pyarrow→DataFrame",
         ""],
        ["pygit2 repo.odb.read(id) + pyarrow → DataFrame", fmt_s(res["base_odb_s"]),
         f"{fmt_ratio(res['base_odb_s'] / res['base_pandas_s'])} pyarrow→DataFrame",
         "how gittrack reads blobs"],
    ]
    ctx.out(table(["read", "median", "ratio", "notes"], rows))
    ctx.out(f"  {res['rows']:,} rows × {res['columns']} columns from {res['chunks']} Parquet "
            f"chunks ({res['parquet_bytes'] / 1e6:.1f} MB); pyarrow read {res['base_rows']:,} "
            f"rows. In-process, imports done first; median of {REPEATS} after a first call.")
    ok = res["median_s"] < 1.0 and res["rows"] == steps
    note = "" if res["rows"] == steps else f"; WRONG row count {res['rows']:,}"
    ctx.targets.append(Target(
        f"history() of {steps:,} steps < 1 s",
        f"{fmt_s(res['median_s'])} (pyarrow alone {fmt_s(res['base_pandas_s'])}; first call "
        f"{fmt_s(res['first_s'])}){note}", ok))


def run_section(ctx: Context) -> None:
    _runs_section(ctx)
    ctx.out()
    _history_section(ctx)
