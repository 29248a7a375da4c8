"""Subprocess entry point: ``python -m bench.worker TASK JSON-ARGS`` prints one result line."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from bench import artifacts, log_overhead, memory, read, wide
from bench.common import emit

TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "log": log_overhead.worker_log,
    "memory": memory.worker_memory,
    "import_cost": memory.worker_import_cost,
    "make_runs": read.worker_make_runs,
    "list_api": read.worker_list_api,
    "read_history": read.worker_read_history,
    "make_wide": wide.worker_make_wide,
    "read_wide": wide.worker_read_wide,
    "artifact_put": artifacts.worker_put,
    "artifact_get": artifacts.worker_get,
    "artifact_floor": artifacts.worker_floor,
    "artifact_s3_get": artifacts.worker_s3_get,
}


def main(argv: list[str]) -> int:
    task, raw = argv[0], argv[1] if len(argv) > 1 else "{}"
    try:
        result = TASKS[task](json.loads(raw))
    except Exception as exc:
        traceback.print_exc()
        emit({"error": f"{type(exc).__name__}: {exc}"[:500]})
        return 1
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
