"""Section ``listing`` (issue 13): `gittrack runs --branch` and `--sort` over 10,000 runs.

The runs are made with ``git fast-import`` (``bench.scale_data``: a quarter each on branches
``main`` (half), ``feature/lr-sweep`` and ``exp/augment``), and the cache is built once
first, as any earlier listing leaves it. Each command runs in a fresh process, as a user runs
it: one warm-up, then the median of 3 (``bench.scale_runs._timed``); beside it, in the same
run, the plain git work a listing by branch must at least do without a cache: ``git
for-each-ref`` of the runs piped into ``git cat-file --batch`` of every ``run.yaml``.
"""

from __future__ import annotations

import sys
import time

from bench import scale_data
from bench.common import Context, make_repo, table
from bench.scale_runs import _once, _row, _target, _timed

COUNT = 10_000


def run(ctx: Context) -> None:
    count = 2_000 if ctx.quick else COUNT
    ctx.out(f"## listing: `gittrack runs --branch` and `--sort` over {count:,} runs")
    repo = make_repo(ctx.scratch("listing", "repo"))
    ctx.progress(f"listing: making {count:,} runs with git fast-import")
    t0 = time.perf_counter()
    scale_data.make_runs(repo, count)
    ctx.out(f"  made {count:,} runs in {time.perf_counter() - t0:.1f} s (git fast-import)")
    gittrack = [sys.executable, "-m", "gittrack", "-C", str(repo)]
    cold = _once([*gittrack, "runs", "-n", "1"], repo, fresh_cache=True)
    batch = ["bash", "-c", f"git -C {repo} for-each-ref --format='%(objectname):run.yaml' "
             f"refs/gittrack/runs | git -C {repo} cat-file --batch > /dev/null"]
    base_label = "for-each-ref | cat-file --batch run.yaml"
    cases = [
        ("gittrack runs --branch main", [*gittrack, "runs", "--branch", "main"]),
        ("gittrack runs --sort summary.loss", [*gittrack, "runs", "--sort", "summary.loss"]),
        ("gittrack runs --branch main --sort summary.acc:desc --format markdown -n 20",
         [*gittrack, "runs", "--branch", "main", "--sort", "summary.acc:desc", "--format",
          "markdown", "-n", "20"]),
    ]
    rows = []
    for label, argv in cases:
        ctx.progress(f"listing: {label}")
        ours = _timed(argv)
        base = _timed(batch)
        rows.append(_row(label, ours, base_label, base))
        _target(ctx, f"{label} over {count:,} runs < 1 s", ours, base, base_label)
    rows.append(_row("cold build of the cache (first `gittrack runs`)", cold, base_label,
                     _timed(batch)))
    ctx.out(table(["command", "median wall", "cpu", "ratio (wall)",
                   "plain git doing the same work"], rows))
    ctx.out("  Fresh processes (interpreter start included), median of 3 after a warm-up; the "
            "cold build is a single run. cpu: user + system seconds of the process and its "
            "children, what the work costs when the machine is shared.")
    ctx.out()
