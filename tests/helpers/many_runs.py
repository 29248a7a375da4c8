"""Many runs at once, made with ``git fast-import`` by the scale benchmark's generator
(``bench.scale_data``, the one generator): run ``i`` has name ``run-{i:06d}``, a state, tags
``sweep`` and ``shard-{i % 8}``, a group, a branch, ``config.lr`` and a summary."""

from __future__ import annotations

from pathlib import Path

from bench.scale_data import BRANCHES, STATES, make_runs, run_id

__all__ = ["BRANCHES", "STATES", "make_runs", "run_id", "runs_in"]


def runs_in(repo: Path, count: int, start: int = 0) -> list[str]:
    """Add runs ``start`` … ``start + count - 1`` to ``repo``; their ids."""
    return make_runs(repo, count, start=start)
