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
class Outcome:
    """What became of one source run: the run made or found (``run``), or why it was skipped
    (``error``, one line)."""

    source: str
    run: Imported | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As ``gittrack import tensorboard --json`` prints a run folder (``source`` for
        ``folder``): ``run_id``, ``name``, ``created``; or ``error``."""
        if self.run is None:
            return {"source": self.source, "error": self.error}
        return {"source": self.source, "run_id": self.run.run_id, "name": self.run.name,
                "created": self.run.created}


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """What ``import_all`` did, one ``Outcome`` per source run in order."""

    outcomes: tuple[Outcome, ...] = ()

    @property
    def imported(self) -> list[Imported]:
        """Runs made now."""
        return [o.run for o in self.outcomes if o.run is not None and o.run.created]

    @property
    def present(self) -> list[Imported]:
        """Runs an earlier import made."""
        return [o.run for o in self.outcomes if o.run is not None and not o.run.created]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.run is None]


def import_all(repo: Repository, sources: Iterable[Source], *,
               project: str | None = None) -> Report:
    """Import each of ``sources`` (into ``project`` when given, else the source's own)."""
    return Report(tuple(_import_one(repo, where, read, project) for where, read in sources))


def _import_one(repo: Repository, where: str, read: Callable[[], SourceRun],
                project: str | None) -> Outcome:
    try:
        source = read()
        if project is not None:
            source = dataclasses.replace(source, project=project)
        return Outcome(where, run=import_run(repo, source))
    except (GittrackError, OSError) as exc:
        return Outcome(where, error=_line(exc))
    except RecursionError:  # a value nested too deeply for Python's own readers
        return Outcome(where, error="data nested too deeply to read")


def _line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot read {exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) or type(exc).__name__
