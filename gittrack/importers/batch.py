"""Importing many source runs: each made once, a damaged one reported and skipped.

Every importer lists its source runs as ``(where, read)`` pairs (``where`` names the run for
a message: a folder, ``URI#run-id``; ``read()`` gives its ``SourceRun`` or raises), and
``import_all`` makes them with ``common.import_run``, so one bad run never stops the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from gittrack.errors import GittrackError
from gittrack.git.repo import Repository
from gittrack.importers.common import Imported, SourceRun, import_run

Source = tuple[str, Callable[[], SourceRun]]


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    """A source run that was not imported, and why (one line)."""

    source: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """What ``import_all`` did: runs made now, runs an earlier import made, runs skipped."""

    imported: tuple[Imported, ...] = ()
    present: tuple[Imported, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def run(item: Imported) -> dict[str, str]:
            return {"id": item.run_id, "name": item.name}

        return {"imported": [run(i) for i in self.imported],
                "present": [run(i) for i in self.present],
                "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped]}


def import_all(repo: Repository, sources: Iterable[Source], *,
               project: str | None = None) -> Report:
    """Import each of ``sources`` (into ``project`` when given, else the source's own)."""
    imported: list[Imported] = []
    present: list[Imported] = []
    skipped: list[Skipped] = []
    for where, read in sources:
        try:
            source = read()
            if project is not None:
                source = dataclasses.replace(source, project=project)
            done = import_run(repo, source)
        except (GittrackError, OSError) as exc:
            skipped.append(Skipped(where, _line(exc)))
            continue
        except RecursionError:  # a value nested too deeply for Python's own readers
            skipped.append(Skipped(where, "data nested too deeply to read"))
            continue
        (imported if done.created else present).append(done)
    return Report(tuple(imported), tuple(present), tuple(skipped))


def _line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot read {exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) or type(exc).__name__
