"""The artifact versions a run used or logged, as its ``run.yaml`` records them.

This is one run's side of lineage: ``RunView.used_artifacts()`` reads it, and the other side
(which runs used or logged a version: ``gittrack.runs.artifact_runs``) scans every run with
it; so it knows no ``RunView``, only what a run records. It lives here, above artifacts,
because it reads runs.

A run's record outlives the version: a version removed with ``gittrack artifact rm NAME:vN``
stays in ``run.yaml`` as ``name:vN`` (its number is never given again), so lineage is looked
up by that text, and readers mark it removed rather than fail.

Beside each label, a run records the version's commit and content (``run.yaml``'s
``artifact_commits: {used: [...], logged: [...]}``, each ``"name:vN <commit> <manifest id>"``),
because a pull may renumber a version made here while a teammate made another
(``artifacts.rewrite.plan_rebase``): the record then still names the same version, found by
its commit (``aliases.resolve_recorded``), and readers mark the label
as replaced. Runs recorded before this have labels only, which resolve as they did.
"""

from __future__ import annotations

from typing import Any, Protocol

from gittrack.artifacts import aliases, versions
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import GittrackError, VersionRemovedError
from gittrack.git.repo import Repository
from gittrack.runs.checkpoint import COMMITS_KEY

ROLES = ("used", "logged")
COMMITS = {role: f"{role}_commits" for role in ROLES}
"""The keys of the run's lineage records (its write-ahead log, ``LiveState.artifacts``) that
hold the commit beside each label; ``run.yaml`` has them under ``COMMITS_KEY``, by role."""


class Recorded(Protocol):
    """A run as read here: its ``run.yaml`` (a ``RunView``)."""

    @property
    def metadata(self) -> dict[str, Any]: ...


def artifact_specs(metadata: dict[str, Any], role: str) -> list[str]:
    """``run.yaml``'s ``artifacts.<role>``: ``["name:vN", ...]`` in the order recorded."""
    lineage = metadata.get("artifacts")
    specs = lineage.get(role) if isinstance(lineage, dict) else None
    return [s for s in specs if isinstance(s, str)] if isinstance(specs, list) else []


def commit_entry(version: ArtifactVersion, repo: Repository) -> str:
    """What ``<role>_commits`` records for ``version``: its label, commit and content."""
    return f"{version.spec} {version.commit} {versions.manifest_id(repo, version.commit)}"


def recorded_commits(metadata: dict[str, Any], role: str) -> dict[str, tuple[str, str | None]]:
    """``run.yaml``'s ``artifact_commits.<role>``: label → (commit, content id). Entries
    that are not ``"name:vN <commit> [<manifest id>]"`` are ignored (forged or damaged)."""
    lineage = metadata.get(COMMITS_KEY)
    entries = lineage.get(role) if isinstance(lineage, dict) else None
    found: dict[str, tuple[str, str | None]] = {}
    for entry in entries if isinstance(entries, list) else []:
        parts = entry.split(" ") if isinstance(entry, str) else []
        if len(parts) in (2, 3) and versions.is_commit_id(parts[1]):
            content = parts[2] if len(parts) == 3 and versions.is_commit_id(parts[2]) else None
            found.setdefault(parts[0], (parts[1], content))
    return found


def resolve_record(repo: Repository, spec: str,
                   recorded: tuple[str, str | None] | None) -> tuple[ArtifactVersion, bool]:
    """The version a record names (``recorded``: its commit and content, if recorded), and
    whether the label no longer says it (renumbered or collapsed by a pull)."""
    if recorded is None:
        return ArtifactVersion.resolve(repo, spec), False
    commit, replaced = aliases.resolve_recorded(repo, spec, *recorded)
    name, _ = aliases.parse_spec(spec)
    return ArtifactVersion(repo, versions.read_info(repo, commit, name)), replaced


def records(metadata: dict[str, Any], role: str) -> list[tuple[str, tuple[str, str | None] | None]]:
    """Each label of ``role`` with its recorded commit and content (``None``: not recorded)."""
    commits = recorded_commits(metadata, role)
    return [(spec, commits.get(spec)) for spec in artifact_specs(metadata, role)]


def notes(repo: Repository, run: Recorded) -> dict[str, str]:
    """The versions a run recorded that this repository cannot show as recorded, with why:
    ``removed`` (``artifact rm``), ``not here`` (the artifact was deleted or never fetched),
    or ``now name:vM`` (a pull renumbered it: the record is replaced)."""
    found = {}
    for role in ROLES:
        for spec, recorded in records(run.metadata, role):
            try:
                version, replaced = resolve_record(repo, spec, recorded)
            except VersionRemovedError:
                found[spec] = "removed"
            except GittrackError:
                found[spec] = "not here"
            else:
                if replaced:
                    found[spec] = f"now {version.spec}"
    return found


def run_artifacts(repo: Repository, run: Recorded, role: str) -> list[ArtifactVersion]:
    """The versions a run used or logged, as ``ArtifactVersion``s (missing ones skipped);
    a record a pull renumbered gives the version it recorded, under its new number."""
    found = []
    for spec, recorded in records(run.metadata, role):
        try:
            found.append(resolve_record(repo, spec, recorded)[0])
        except GittrackError:
            continue  # an artifact deleted, or not fetched from the remote
    return found
