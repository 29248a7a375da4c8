"""Section ``scale`` (issue 10), part: 100,000 runs: listing, filters, show."""

from __future__ import annotations

from bench.common import Context


def run(ctx: Context) -> None:
    ctx.out("## scale: 100,000 runs: listing, filters, show")
    ctx.out("(not measured yet)")
    ctx.out()
