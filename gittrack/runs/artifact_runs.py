"""Which runs used or logged an artifact version: the versions' side of lineage.

A version names the run that produced it (``artifact.yaml``); the runs that consumed it are
found by scanning ``run.yaml`` of every run (``lineage.artifact_specs``), which the checkpoint
cache (``runs.index``) makes a read of one local file. A removed version (``name:vN``) is
still found in the records of the runs that used or logged it.
"""

from __future__ import annotations

from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import GittrackError
from gittrack.git.repo import Repository
from gittrack.runs import store
from gittrack.runs.lineage import artifact_specs, records, resolve_record
from gittrack.runs.view import RunView, all_runs
from gittrack.types import RunId


def consumers(repo: Repository, version: ArtifactVersion) -> list[RunView]:
    """Runs that used ``version``, newest first (runs that cannot be read are skipped)."""
    return recorded_for(repo, version, "used")


def recorded_for(repo: Repository, version: ArtifactVersion, role: str) -> list[RunView]:
    """Runs whose record under ``role`` names ``version``, newest first: by the commit beside
    the label when the run recorded one (so a version a pull renumbered keeps its runs, and
    another version given its old number gets none of them), else by the label."""
    found: dict[tuple[str, tuple[str, str | None]], str | None] = {}
    out = []
    for view in all_runs(repo, on_error=_skip):
        for spec, recorded in records(view.metadata, role):
            if recorded is None:
                if spec == version.spec:
                    out.append(view)
                    break
                continue
            if spec.partition(":")[0] != version.name:
                continue
            if (spec, recorded) not in found:
                try:
                    found[spec, recorded] = resolve_record(repo, spec, recorded)[0].commit
                except GittrackError:
                    found[spec, recorded] = None
            if found[spec, recorded] == version.commit:
                out.append(view)
                break
    return out


def recorded_by(repo: Repository, spec: str, role: str) -> list[RunView]:
    """Runs whose ``run.yaml`` lists ``spec`` (``name:vN``) under ``role``, newest first;
    the version need not exist any more."""
    return [view for view in all_runs(repo, on_error=_skip)
            if spec in artifact_specs(view.metadata, role)]


def producer(repo: Repository, version: ArtifactVersion) -> RunView | None:
    """The run that logged ``version``, if it is in this repository."""
    if version.producer is None:
        return None
    run_id = RunId(version.producer)
    head = store.head(repo, run_id)
    return None if head is None else RunView(repo, run_id, head)


def _skip(run_id: str, error: GittrackError) -> None:
    return None
