"""Part of section ``media`` (issue 11); filled in by its owner."""

from __future__ import annotations

from bench.common import Context


def run(ctx: Context) -> None:
    """Prints this part's figures beside a baseline measured in the same run."""
