"""``gittrack.Api``: read runs for notebooks and scripts ("you own your data")."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Mapping
from typing import Any

from gittrack.artifacts import versions
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import GittrackError, GittrackWarning, RepositoryError, VersionRemovedError
from gittrack.git.repo import Repository, discover, work_folder
from gittrack.runs.artifact_runs import consumers, producer, recorded_by
from gittrack.runs.recover import dead_run_notes, recover_dead_runs
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import Runs, RunView, select, warn_unreadable


class Api:
    """Read the runs of a repository.

    >>> api = gittrack.Api(repo=".")                                  # doctest: +SKIP
    >>> df = api.runs({"state": "finished"})[0].history()             # doctest: +SKIP

    Reading never writes: a run whose process died is shown as it stands (``crashed``, at
    its last checkpoint) with a ``GittrackWarning`` saying its write-ahead log holds steps
    not yet recorded. ``recover=True`` folds such logs into their runs first (a commit), as
    ``gittrack recover`` does.
    """

    def __init__(self, repo: str | os.PathLike[str] = ".", *, recover: bool = False) -> None:
        self._repo: Repository = discover(repo)
        with contextlib.suppress(GittrackError, OSError):  # a read-only .git: runs as they are
            if recover:
                recover_dead_runs(self._repo)
            else:
                for note in dead_run_notes(self._repo):
                    warnings.warn(f"gittrack: {note}", GittrackWarning, stacklevel=2)

    def runs(self, filters: Mapping[str, Any] | None = None) -> Runs:
        """Runs matching ``filters`` (see ``docs/api.md``), newest first, as a sequence
        (``len()``, indexing, slicing, iteration) whose views are made when first asked for,
        as W&B's ``Runs``. A run that cannot be read is left out with a ``GittrackWarning``
        naming it. Filters are tested on the local cache's plain data (``runs.index``); each
        view's checkpoint is checked when first read (100,000 runs: no run is checked that is
        not read)."""
        listing = select(self._repo, filters, on_error=warn_unreadable)
        assert isinstance(listing.views, Runs)
        return listing.views

    def run(self, spec: str) -> RunView:
        """One run by id, unique id prefix or name."""
        return resolve_run(self._repo, spec)

    def artifact(self, spec: str) -> ArtifactVersion:
        """One artifact version: ``"name"``, ``"name:latest"``, ``"name:v3"`` or
        ``"name:<alias>"``."""
        return ArtifactVersion.resolve(self._repo, spec)

    def artifacts(self, name: str | None = None) -> list[ArtifactVersion]:
        """The latest version of every artifact, by name; with ``name``, each of its versions,
        newest first."""
        if name is None:  # an unreadable ref (forged, broken) is skipped with a warning
            latest = versions.latest_versions(self._repo, _warn_skipped)
            return [ArtifactVersion(self._repo, info) for info in latest.values()]
        ArtifactVersion.resolve(self._repo, name)  # NotFoundError naming what exists
        return [ArtifactVersion(self._repo, versions.read_info(self._repo, commit, name))
                for commit in versions.history(self._repo, name)]

    def used_by(self, artifact: str | ArtifactVersion) -> list[RunView]:
        """The runs that used a version (``run.use_artifact``), newest first. A removed version
        (``"name:v3"``) still has the runs that recorded it."""
        if isinstance(artifact, str) and (removed := self._removed(artifact)):
            return recorded_by(self._repo, removed, "used")
        return consumers(self._repo, self._version(artifact))

    def logged_by(self, artifact: str | ArtifactVersion) -> RunView | None:
        """The run that logged a version, if it is in this repository (also for a removed
        ``"name:v3"``, from the runs' records)."""
        if isinstance(artifact, str) and (removed := self._removed(artifact)):
            return next(iter(recorded_by(self._repo, removed, "logged")), None)
        return producer(self._repo, self._version(artifact))

    def _removed(self, spec: str) -> str | None:
        """``name:vN`` when ``spec`` names a removed version, else ``None``."""
        try:
            ArtifactVersion.resolve(self._repo, spec)
        except VersionRemovedError:
            name, _, selector = spec.strip().partition(":")
            return f"{name}:v{int(selector[1:])}" if re.fullmatch(r"v\d+", selector) else None
        return None

    def _version(self, artifact: str | ArtifactVersion) -> ArtifactVersion:
        return artifact if isinstance(artifact, ArtifactVersion) else self.artifact(artifact)

    @property
    def path(self) -> str:
        return work_folder(self._repo)


def _warn_skipped(ref: str, error: GittrackError) -> None:
    warnings.warn(f"gittrack: skipping {ref}: {error}", GittrackWarning, stacklevel=4)


__all__ = ["Api", "RepositoryError"]
