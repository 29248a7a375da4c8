"""Making a finished gittrack run from a run recorded by another tool, once.

Every importer (``gittrack import tensorboard|wandb|mlflow``) reads its source into a
``SourceRun`` and hands it to ``import_run``; this module owns what they share:

- ``Row(values, step=None, timestamp=None)``: one history row of the source, whole (each row is
  committed on its own: several keys at one step go in one ``Row``). ``values`` may hold
  numbers, strings, ``gittrack.Histogram`` and media (``gittrack.Image``...), as ``log()``
  takes them. ``timestamp`` (seconds since the epoch) becomes the row's ``_timestamp`` (and
  ``_runtime`` counts from ``SourceRun.start_time``); ``None`` keeps the previous row's time.
- ``SourceRun(kind, key, rows, ...)``: the run to make. ``kind`` names the importer
  (``"tensorboard"``); ``key`` identifies the source run for ever (an absolute path, a W&B run
  path ``entity/project/id``...): with ``start_time`` it makes the run id, so importing the same
  source again finds the run. ``config`` and ``summary`` become ``config.yaml`` and
  ``summary.yaml`` (``summary`` set after the history, over the last logged values);
  ``location`` is what ``run.yaml``'s ``imported_from`` shows (default ``key``).
- ``imported_run_id(source) -> RunId``: the id ``import_run`` gives (``runs.ids.derived_run_id``
  of ``start_time`` and ``"<kind>:<key>"``).
- ``import_run(repo, source) -> Imported``: the run made (``created=True``), or the run an
  earlier import made (``created=False``, nothing written). The run is ``finished`` (or
  ``failed`` for a non-zero ``exit_code``), starts at ``start_time`` and ends at ``end_time``
  (default: the last row's time); ``run.yaml`` has ``imported_from: {kind, source}``. If
  logging a row fails the run is finished as ``failed`` and the error says which run to
  delete (``gittrack rm``) before importing again.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from gittrack.errors import GittrackError, GittrackWarning
from gittrack.git.repo import Repository
from gittrack.runs import store
from gittrack.runs.ids import derived_run_id
from gittrack.runs.live import Run
from gittrack.runs.start import create_run
from gittrack.settings import Settings
from gittrack.types import RunId


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One history row of the source run (see the module's docstring)."""

    values: Mapping[str, Any]
    step: int | None = None
    timestamp: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SourceRun:
    """A run read from another tool, ready to become a gittrack run."""

    kind: str
    key: str
    rows: Iterable[Row] = ()
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    summary: Mapping[str, Any] | None = None
    name: str | None = None
    project: str | None = None
    group: str | None = None
    job_type: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    exit_code: int = 0
    location: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Imported:
    """What ``import_run`` did: ``created`` is ``False`` when an earlier import made the run."""

    run_id: RunId
    name: str
    created: bool


class _Clock:
    """The source's time as the run sees it: moved forward row by row."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _log_rows(run: Run, rows: Iterable[Row], clock: _Clock) -> None:
    with warnings.catch_warnings():
        # a source may hold a step twice (a training resumed from a checkpoint): each is kept,
        # as a row of its own, without the warning a live run gives
        warnings.filterwarnings("ignore", message="gittrack: step .* is lower than the current",
                                category=GittrackWarning)
        for row in rows:
            if row.timestamp is not None:
                clock.now = row.timestamp
            run.log(dict(row.values), step=row.step, commit=True)


def imported_run_id(source: SourceRun) -> RunId:
    """The run id ``import_run`` gives ``source``: the same for the same source."""
    start = source.start_time if source.start_time is not None else 0.0
    return derived_run_id(start, f"{source.kind}:{source.key}")


def _settings() -> Settings:
    # An import records what the source had: nothing of this process (console, system
    # metrics, code), and prints nothing of its own.
    return Settings(quiet=True, console="off", system_metrics=False, save_code=False)


def import_run(repo: Repository, source: SourceRun) -> Imported:
    """Make the finished run ``source`` describes, unless an earlier import made it."""
    run_id = imported_run_id(source)
    head = store.head(repo, run_id)
    if head is not None:
        info = store.load_checkpoint(repo, head, with_resume=False).info
        return Imported(run_id, str(info.name), created=False)
    clock = _Clock(source.start_time if source.start_time is not None else time.time())
    run = create_run(
        repo, run_id=run_id, name=source.name, project=source.project, config=dict(source.config),
        tags=source.tags, notes=source.notes, group=source.group, job_type=source.job_type,
        settings=_settings(), clock=clock,
        imported_from={"kind": source.kind, "source": source.location or source.key},
    )
    try:
        _log_rows(run, source.rows, clock)
        if source.summary:
            run.summary.update(dict(source.summary))
    except BaseException as exc:
        run.finish(exit_code=1, quiet=True)
        if isinstance(exc, GittrackError):
            raise type(exc)(f"importing {source.kind} run {source.location or source.key}: "
                            f"{exc} (run {run_id} is kept as failed: `gittrack rm {run_id}` "
                            "before importing again)") from None
        raise
    if source.end_time is not None:
        clock.now = max(clock.now, source.end_time)
    run.finish(exit_code=source.exit_code, quiet=True)
    return Imported(run_id, run.name, created=True)
