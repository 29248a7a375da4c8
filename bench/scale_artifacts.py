"""Section ``scale`` (issue 10), part: large artifacts: 1,000 versions, 1,000,000 files."""

from __future__ import annotations

from bench.common import Context


def run(ctx: Context) -> None:
    ctx.out("## scale: large artifacts: 1,000 versions, 1,000,000 files")
    ctx.out("(not measured yet)")
    ctx.out()
