"""Section ``scale`` (issue 10), part: long runs: 1,000,000 steps checkpointed 8,640 times."""

from __future__ import annotations

from bench.common import Context


def run(ctx: Context) -> None:
    ctx.out("## scale: long runs: 1,000,000 steps checkpointed 8,640 times")
    ctx.out("(not measured yet)")
    ctx.out()
