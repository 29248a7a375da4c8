"""A run read from another tracker, as plain data: what every importer's reader produces.

The readers (``importers/wandb.py``, ``importers/mlflow.py``) turn a source run into a
``SourceRun``; the writer (``importers/common.py``) turns that into a finished gittrack run.
Nothing here knows the source's format or gittrack's storage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One history row: the source's step, its wall-clock time (seconds since the epoch, or
    ``None`` when the source has none) and the values logged at that step (media as gittrack
    media objects)."""

    step: int
    timestamp: float | None
    values: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class SourceRun:
    """One run of another tracker. ``tool`` and ``source_id`` identify it (the re-import
    check); ``path`` is where it was read from (a folder, or a tracking URI)."""

    tool: str
    source_id: str
    path: str
    name: str | None = None
    project: str | None = None
    group: str | None = None
    job_type: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    summary: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    rows: tuple[Row, ...] = ()
    state: str = "finished"  # finished, failed or crashed (a RunState value)
    exit_code: int | None = 0
    start_time: float | None = None
    end_time: float | None = None

    @property
    def marker(self) -> dict[str, str]:
        """``imported_from`` of ``run.yaml``: where this run came from."""
        return {"tool": self.tool, "id": self.source_id, "path": self.path}
