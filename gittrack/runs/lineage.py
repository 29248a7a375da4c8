"""Which runs used or logged which artifact versions, read from the runs' ``run.yaml``.

A version names the run that produced it (``artifact.yaml``); the runs that consumed it are
found by scanning ``run.yaml`` of every run, which the checkpoint cache (``runs.index``) makes
a read of one local file. It lives here, above artifacts, because it reads runs.

A run's record outlives the version: a version removed with ``gittrack artifact rm NAME:vN``
stays in ``run.yaml`` as ``name:vN`` (its number is never given again), so lineage is looked
up by that text, and readers mark it removed rather than fail.
"""

from __future__ import annotations

from typing import Any

from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import GittrackError, VersionRemovedError
from gittrack.git.repo import Repository
from gittrack.runs.view import RunView, all_runs
from gittrack.types import RunId

ROLES = ("used", "logged")


def artifact_specs(metadata: dict[str, Any], role: str) -> list[str]:
    """``run.yaml``'s ``artifacts.<role>``: ``["name:vN", ...]`` in the order recorded."""
    lineage = metadata.get("artifacts")
    specs = lineage.get(role) if isinstance(lineage, dict) else None
    return [s for s in specs if isinstance(s, str)] if isinstance(specs, list) else []


def consumers(repo: Repository, version: ArtifactVersion) -> list[RunView]:
    """Runs that used ``version``, newest first (runs that cannot be read are skipped)."""
    return recorded_by(repo, version.spec, "used")


def recorded_by(repo: Repository, spec: str, role: str) -> list[RunView]:
    """Runs whose ``run.yaml`` lists ``spec`` (``name:vN``) under ``role``, newest first;
    the version need not exist any more."""
    return [view for view in all_runs(repo, on_error=_skip)
            if spec in artifact_specs(view.metadata, role)]


def notes(repo: Repository, view: RunView) -> dict[str, str]:
    """The versions a run recorded that this repository cannot show, with why:
    ``removed`` (``artifact rm``) or ``not here`` (the artifact was deleted or never fetched)."""
    found = {}
    for role in ROLES:
        for spec in artifact_specs(view.metadata, role):
            try:
                ArtifactVersion.resolve(repo, spec)
            except VersionRemovedError:
                found[spec] = "removed"
            except GittrackError:
                found[spec] = "not here"
    return found


def producer(repo: Repository, version: ArtifactVersion) -> RunView | None:
    """The run that logged ``version``, if it is in this repository."""
    if version.producer is None:
        return None
    from gittrack.runs import store

    run_id = RunId(version.producer)
    head = store.head(repo, run_id)
    return None if head is None else RunView(repo, run_id, head)


def run_artifacts(repo: Repository, view: RunView, role: str) -> list[ArtifactVersion]:
    """The versions a run used or logged, as ``ArtifactVersion``s (missing ones skipped)."""
    found = []
    for spec in artifact_specs(view.metadata, role):
        try:
            found.append(ArtifactVersion.resolve(repo, spec))
        except GittrackError:
            continue  # an artifact deleted, or not fetched from the remote
    return found


def _skip(run_id: str, error: GittrackError) -> None:
    return None
