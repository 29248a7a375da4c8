"""Section ``scale`` (issue 10): cost that stays flat as the work grows.

Four parts, one module each: a long run (``scale_long``), a repository of 100,000 runs read
locally (``scale_runs``) and synced (``scale_sync``), and large artifacts
(``scale_artifacts``). Each prints its figures beside the plain git or pyarrow work that does
the same underlying job, measured in the same run.
"""

from __future__ import annotations

from bench import scale_artifacts, scale_long, scale_runs, scale_sync
from bench.common import Context


def run(ctx: Context) -> None:
    for part in (scale_long, scale_runs, scale_sync, scale_artifacts):
        part.run(ctx)
