"""``gittrack runs`` over many runs (section ``runs``).

``python -m gittrack -C REPO runs`` (a fresh process each time, as a user runs it) against
``git for-each-ref refs/gittrack/runs`` in the same repository; one warm-up, then the median
of 5. The runs are made with the real API (``init``, 20 steps of 3 keys, ``finish``) by two
processes at once. Also ``Api(repo).runs()`` in-process with name/state/summary of each, and
both again after ``git pack-refs --all``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import (
    Context,
    Target,
    first_and_median,
    fmt_ratio,
    fmt_s,
    git,
    make_repo,
    run_worker,
    table,
    time_command,
)

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


def worker_list_api(args: dict[str, Any]) -> dict[str, Any]:
    import gittrack

    def listing() -> int:
        views = gittrack.Api(repo=args["repo"]).runs()
        return len([(v.id, v.name, v.state, v.summary) for v in views])

    first, med, count = first_and_median(listing, REPEATS)
    return {"first_s": first, "median_s": med, "runs": count}


# -- parent side ------------------------------------------------------------------------------

def run(ctx: Context) -> None:
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
        rows.append(_row(f"gittrack runs ({phase})", cli_res, "median", base,
                         lambda r: f"{r['lines']:,} lines"))
        rows.append([f"git for-each-ref ({phase})", fmt_s(base), "1×",
                     f"{git_res.get('lines', 0):,} refs"])
        rows.append(_row(f"Api().runs() in-process ({phase})", api, "median_s", base,
                         lambda r: f"{r['runs']:,} runs; first call {fmt_s(r['first_s'])}"))
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


def _row(label: str, res: dict[str, Any], key: str, base: float | None,
         note: Callable[[dict[str, Any]], str]) -> list[str]:
    """A timed row against git's ``base``, or the failure."""
    if "error" in res:
        return [label, "FAILED: " + res["error"], "", ""]
    return [label, fmt_s(res[key]), f"{fmt_ratio(res[key] / base)} git" if base else "-",
            note(res)]
