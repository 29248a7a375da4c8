"""The artifact versions a run used or logged, as its ``run.yaml`` records them.

This is one run's side of lineage: ``RunView.used_artifacts()`` reads it, and the other side
(which runs used or logged a version: ``gittrack.runs.artifact_runs``) scans every run with
it; so it knows no ``RunView``, only what a run records. It lives here, above artifacts,
because it reads runs.

A run's record outlives the version: a version removed with ``gittrack artifact rm NAME:vN``
stays in ``run.yaml`` as ``name:vN`` (its number is never given again), so lineage is looked
up by that text, and readers mark it removed rather than fail.
"""

from __future__ import annotations

from typing import Any, Protocol

from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import GittrackError, VersionRemovedError
from gittrack.git.repo import Repository

ROLES = ("used", "logged")


class Recorded(Protocol):
    """A run as read here: its ``run.yaml`` (a ``RunView``)."""

    @property
    def metadata(self) -> dict[str, Any]: ...


def artifact_specs(metadata: dict[str, Any], role: str) -> list[str]:
    """``run.yaml``'s ``artifacts.<role>``: ``["name:vN", ...]`` in the order recorded."""
    lineage = metadata.get("artifacts")
    specs = lineage.get(role) if isinstance(lineage, dict) else None
    return [s for s in specs if isinstance(s, str)] if isinstance(specs, list) else []


def notes(repo: Repository, run: Recorded) -> dict[str, str]:
    """The versions a run recorded that this repository cannot show, with why:
    ``removed`` (``artifact rm``) or ``not here`` (the artifact was deleted or never fetched)."""
    found = {}
    for role in ROLES:
        for spec in artifact_specs(run.metadata, role):
            try:
                ArtifactVersion.resolve(repo, spec)
            except VersionRemovedError:
                found[spec] = "removed"
            except GittrackError:
                found[spec] = "not here"
    return found


def run_artifacts(repo: Repository, run: Recorded, role: str) -> list[ArtifactVersion]:
    """The versions a run used or logged, as ``ArtifactVersion``s (missing ones skipped)."""
    found = []
    for spec in artifact_specs(run.metadata, role):
        try:
            found.append(ArtifactVersion.resolve(repo, spec))
        except GittrackError:
            continue  # an artifact deleted, or not fetched from the remote
    return found
