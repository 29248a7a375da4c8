"""Section ``scale`` (issue 10), part: 100,000 runs read locally: listing, filters, show.

The runs are made with ``git fast-import`` (``bench.scale_data``), as a pull from a busy team
brings them. Each command runs in a fresh process, as a user runs it: one warm-up, then the
median of 3; beside it, the plain git command doing the same underlying work, measured in the
same run (``git for-each-ref`` for a listing; ``for-each-ref`` piped into ``git cat-file
--batch`` of every run's ``run.yaml`` or ``config.yaml`` for a filter, which must read them;
``git cat-file -p REF:run.yaml`` for one run). Then the first listing after 1,000 more runs
arrive (the cache parses only those) and, first of all, the cold build of the cache.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import scale_data
from bench.common import (
    Context,
    Target,
    clean_env,
    fmt_ratio,
    fmt_s,
    make_repo,
    table,
)

REPEATS = 3
_API = """
import json, statistics, sys, time
t0 = time.perf_counter()
import gittrack
api = gittrack.Api(sys.argv[1])
runs = api.runs({"config.lr": 0.01})
first = time.perf_counter() - t0
times = []
for _ in range(3):
    t0 = time.perf_counter()
    runs = gittrack.Api(sys.argv[1]).runs({"config.lr": 0.01})
    times.append(time.perf_counter() - t0)
print(json.dumps({"median": statistics.median(times), "first": first, "runs": len(runs)}))
"""


def run(ctx: Context) -> None:
    count = 10_000 if ctx.quick else 100_000
    ctx.out(f"## scale: {count:,} runs: listing, filters, show")
    repo = make_repo(ctx.scratch("scale_runs", "repo"))
    ctx.progress(f"scale_runs: making {count:,} runs with git fast-import")
    t0 = time.perf_counter()
    ids = scale_data.make_runs(repo, count)
    ctx.out(f"  made {count:,} runs in {time.perf_counter() - t0:.1f} s (git fast-import)")

    gittrack = [sys.executable, "-m", "gittrack", "-C", str(repo)]
    ctx.progress("scale_runs: the cold build of the cache")
    cold = _once([*gittrack, "runs", "-n", "1"], repo, fresh_cache=True)

    def git(*args: str) -> list[str]:
        return ["git", "-C", str(repo), *args]

    def batch(path: str) -> list[str]:
        return ["bash", "-c", f"git -C {repo} for-each-ref --format='%(objectname):{path}' "
                f"refs/gittrack/runs | git -C {repo} cat-file --batch > /dev/null"]

    middle = ids[count // 2]
    name = f"run-{count // 2:06d}"
    prefix = middle[:14]
    show_git = git("cat-file", "-p", f"refs/gittrack/runs/{middle}:run.yaml")
    cases: list[tuple[str, list[str], str, list[str]]] = [
        ("gittrack runs", [*gittrack, "runs"], "git for-each-ref",
         git("for-each-ref", "refs/gittrack/runs")),
        ("gittrack runs --state finished", [*gittrack, "runs", "--state", "finished"],
         "for-each-ref | cat-file --batch run.yaml", batch("run.yaml")),
        ("gittrack runs --tag shard-3", [*gittrack, "runs", "--tag", "shard-3"],
         "for-each-ref | cat-file --batch run.yaml", batch("run.yaml")),
        ("gittrack runs -f config.lr=0.01", [*gittrack, "runs", "-f", "config.lr=0.01"],
         "for-each-ref | cat-file --batch config.yaml", batch("config.yaml")),
        ("gittrack runs --branch main", [*gittrack, "runs", "--branch", "main"],
         "for-each-ref | cat-file --batch run.yaml", batch("run.yaml")),
        (f"gittrack show {prefix} (id prefix)", [*gittrack, "show", prefix],
         "git cat-file -p REF:run.yaml", show_git),
        (f"gittrack show {name} (name)", [*gittrack, "show", name],
         "git cat-file -p REF:run.yaml", show_git),
    ]
    rows = []
    for label, argv, base_label, base_argv in cases:
        ctx.progress(f"scale_runs: {label}")
        ours = _timed(argv)
        base = _timed(base_argv)
        rows.append(_row(label, ours, base_label, base))
        _target(ctx, f"{label} over {count:,} runs < 1 s", ours, base, base_label)

    ctx.progress("scale_runs: Api().runs({'config.lr': 0.01}) in-process")
    api = _api(repo)
    base = _timed(batch("config.yaml"))
    if "error" in api:
        rows.append(["Api().runs({'config.lr': 0.01}) in-process", "FAILED: " + api["error"],
                     "", "", ""])
    else:
        rows.append(["Api().runs({'config.lr': 0.01}) in-process", fmt_s(api["median"]), "",
                     _ratio(api["median"], base),
                     f"{api['runs']:,} runs; first call with imports {fmt_s(api['first'])}"])
    _target(ctx, f"Api().runs(filter) over {count:,} runs < 1 s", api, base,
            "for-each-ref | cat-file --batch config.yaml")

    ctx.progress("scale_runs: 1,000 new runs, then the first listing")
    scale_data.make_runs(repo, 1_000, start=count)
    incremental = _once([*gittrack, "runs"], repo)
    after = _timed(git("for-each-ref", "refs/gittrack/runs"))
    rows.append(_row("gittrack runs, first after 1,000 new runs", incremental,
                     "git for-each-ref", after))
    _target(ctx, "first `gittrack runs` after 1,000 new runs < 1 s (parses only those)",
            incremental, after, "git for-each-ref")
    rows.append(_row("cold build of the cache (first `gittrack runs`)", cold,
                     "for-each-ref | cat-file --batch run.yaml", _once(batch("run.yaml"), repo)))
    ctx.out(table(["command", "median wall", "cpu", "ratio (wall)",
                   "plain git doing the same work"], rows))
    ctx.out(f"  Fresh processes (interpreter start included), median of {REPEATS} after a "
            "warm-up; the first listing after new runs and the cold build are single runs. "
            "The table shows the newest 50 runs (`--json` or `--all`: every run). cpu: user + "
            "system seconds of the process and its children (the plain git column's too), "
            "what the work costs when the machine is shared.")
    ctx.out()


def _once(argv: list[str], repo: Path, *, fresh_cache: bool = False) -> dict[str, Any]:
    """One timed run of ``argv`` (no warm-up: what is timed is the first run)."""
    if fresh_cache:
        shutil.rmtree(repo / ".git" / "gittrack" / "cache", ignore_errors=True)
    return _timed(argv, repeats=1, warm=False)


def _timed(argv: list[str], *, repeats: int = REPEATS, warm: bool = True) -> dict[str, Any]:
    """Median wall time and CPU time (user + system, the command's children included) of
    ``argv`` in fresh processes. CPU time says what the work costs when other processes
    share the machine and stretch the wall time."""
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(repeats + warm):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=clean_env())
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            return {"error": f"exit {proc.returncode}: {proc.stderr[-200:]}"}
        if i or not warm:
            walls.append(wall)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {"median": statistics.median(walls), "cpu": statistics.median(cpus)}


def _api(repo: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _API, str(repo)], capture_output=True,
                          text=True, env=clean_env())
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr[-200:]}"}
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def _ratio(ours: float, base: dict[str, Any]) -> str:
    median = base.get("median")
    return f"{fmt_ratio(ours / median)} git ({fmt_s(median)})" if median else "-"


def _row(label: str, ours: dict[str, Any], base_label: str, base: dict[str, Any]) -> list[str]:
    if "error" in ours:
        return [label, "FAILED: " + ours["error"], "", "", base_label]
    return [label, fmt_s(ours["median"]), fmt_s(ours.get("cpu")), _ratio(ours["median"], base),
            f"{base_label} (cpu {fmt_s(base.get('cpu'))})"]


def _target(ctx: Context, name: str, ours: dict[str, Any], base: dict[str, Any],
            base_label: str) -> None:
    if "error" in ours:
        ctx.targets.append(Target(name, "command failed: " + ours["error"], False))
        return
    cpu = f", cpu {fmt_s(ours['cpu'])}" if ours.get("cpu") is not None else ""
    figure = f"{fmt_s(ours['median'])}{cpu} ({base_label} {fmt_s(base.get('median'))})"
    ctx.targets.append(Target(name, figure, ours["median"] < 1.0))
