"""Subprocess entry point: ``python -m bench.worker TASK JSON-ARGS`` prints one result line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bench import (
    artifacts_floor,
    artifacts_worker,
    history,
    log_overhead,
    memory,
    runs,
    wide,
)
from bench.common import answer

TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "log": log_overhead.worker_log,
    "memory": memory.worker_memory,
    "import_cost": memory.worker_import_cost,
    "make_runs": runs.worker_make_runs,
    "list_api": runs.worker_list_api,
    "read_history": history.worker_read_history,
    "make_wide": wide.worker_make_wide,
    "read_wide": wide.worker_read_wide,
    "artifact_put": artifacts_worker.worker_put,
    "artifact_get": artifacts_worker.worker_get,
    "artifact_floor": artifacts_floor.worker_floor,
    "artifact_s3_get": artifacts_worker.worker_s3_get,
}


def main(argv: list[str]) -> int:
    task = argv[0]
    return answer(lambda args: TASKS[task](args), argv[1] if len(argv) > 1 else "{}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
