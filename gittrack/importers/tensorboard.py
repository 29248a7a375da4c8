"""``gittrack import tensorboard LOGDIR``: each folder of event files becomes a gittrack run.

A run folder is a folder holding ``events.out.tfevents.*`` files (LOGDIR itself or any folder
under it). Its events are read in file-name order (``gittrack.formats.tbevents``: the records'
checksums are checked), and each summary value is decoded as live sync decodes it: scalars,
histograms, images and text. The values of one step form one row (a tag written twice at a step,
as after a restart, gives a second row at that step: nothing is dropped); the row's time is the
latest wall time of its events (``_timestamp``). The run starts at the folder's first event and
ends at its last; its name is the folder's path under LOGDIR.

The run id comes from the folder's first event file name (which holds the writer's start time,
host and process id): importing the folder again, even moved or grown since, finds the run.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gittrack.errors import FormatError, GittrackError, UsageError
from gittrack.formats import tbevents
from gittrack.git.repo import Repository
from gittrack.importers.common import Imported, Row, SourceRun, import_run

EVENT_PREFIX = "events.out.tfevents."


@dataclasses.dataclass(frozen=True, slots=True)
class Failed:
    folder: Path
    reason: str


@dataclasses.dataclass(slots=True)
class Report:
    imported: list[tuple[Path, Imported]] = dataclasses.field(default_factory=list)
    failed: list[Failed] = dataclasses.field(default_factory=list)
    skipped_tags: dict[str, str] = dataclasses.field(default_factory=dict)


def run_folders(logdir: Path) -> list[Path]:
    """The folders under ``logdir`` (itself included) that hold event files, sorted."""
    found = []
    for folder, dirs, files in os.walk(logdir):
        dirs.sort()
        if any(name.startswith(EVENT_PREFIX) for name in files):
            found.append(Path(folder))
    return sorted(found)


def import_logdir(repo: Repository, logdir: Path, project: str | None = None) -> Report:
    """Import every run folder under ``logdir``; a folder that cannot be read is reported in
    ``Report.failed`` and the others are imported."""
    folders = run_folders(logdir)
    if not folders:
        raise UsageError(f"no TensorBoard event files ({EVENT_PREFIX}*) under {logdir}")
    report = Report()
    for folder in folders:
        try:
            source = read_run(logdir, folder, project, report.skipped_tags)
            report.imported.append((folder, import_run(repo, source)))
        except (GittrackError, OSError) as exc:
            reason = (f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError)
                      and exc.strerror else str(exc))
            report.failed.append(Failed(folder, reason))
    return report


def read_run(logdir: Path, folder: Path, project: str | None = None,
             skipped: dict[str, str] | None = None) -> SourceRun:
    """The run of ``folder``'s event files (see the module's docstring)."""
    files = sorted(p for p in folder.iterdir()
                   if p.name.startswith(EVENT_PREFIX) and p.is_file())
    if not files:
        raise FormatError(f"no event files in {folder}")
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    times: dict[tuple[int, int], float] = {}
    seen: dict[tuple[str, int], int] = {}
    first = last = None
    wall = 0.0
    config: dict[str, Any] = {}
    for event in _events(files):
        if _is_time(event.wall_time):  # a forged time keeps the previous event's
            wall = float(event.wall_time)
            first = wall if first is None else min(first, wall)
            last = wall if last is None else max(last, wall)
        if not event.HasField("summary"):
            continue
        decoded = tbevents.decode(event.summary)
        config.update(decoded.config)
        step = int(event.step)
        if step < 0:
            decoded.skipped.update({t: f"has a negative step ({step})" for t in decoded.values})
            decoded.values.clear()
        if skipped is not None:
            skipped.update(decoded.skipped)
        for tag, value in decoded.values.items():
            nth = seen.get((tag, step), 0)
            seen[(tag, step)] = nth + 1
            rows.setdefault((step, nth), {})[tag] = value
            times[(step, nth)] = max(times.get((step, nth), wall), wall)
    name = folder.relative_to(logdir).as_posix() if folder != logdir else logdir.resolve().name
    return SourceRun(
        kind="tensorboard", key=files[0].name,
        rows=[Row(rows[k], step=k[0], timestamp=times[k]) for k in sorted(rows)],
        config=config, name=name or None, project=project, start_time=first, end_time=last,
        location=str(folder.resolve()),
    )


def _is_time(value: float) -> bool:
    """A wall time gittrack can store: from 1970 to the year 5138 (ids hold 10 digits of
    milliseconds in base 32)."""
    return math.isfinite(value) and 0 <= value < 32**10 / 1000


def _events(files: list[Path]) -> Iterator[Any]:
    event_type = _event_class()
    for path in files:
        yield from tbevents.read_events(path, event_type)


def _event_class() -> Any:
    try:
        from tensorboard.compat.proto.event_pb2 import Event  # type: ignore[import-untyped]
    except ImportError:
        try:
            from tensorboardX.proto.event_pb2 import Event  # type: ignore[import-untyped]
        except ImportError:
            raise UsageError("reading TensorBoard event files needs the tensorboard package: "
                             "`pip install 'gittrack[tensorboard]'`") from None
    return Event
