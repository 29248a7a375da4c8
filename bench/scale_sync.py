"""Section ``scale`` (issue 10), part: no-op push and pull of 100,000 runs, pulling 10,000."""

from __future__ import annotations

from bench.common import Context


def run(ctx: Context) -> None:
    ctx.out("## scale: 100,000 runs: no-op push and pull, pulling 10,000 new runs")
    ctx.out("(not measured yet)")
    ctx.out()
