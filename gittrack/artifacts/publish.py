"""Logging an ``Artifact``: store its bytes, then commit the version, then move its aliases.

The order is what keeps it whole: a version commit is written only after every blob it names
is in the store, so a failed upload leaves no version behind (and a teammate who fetches a
version never meets a missing blob because of us).
"""

from __future__ import annotations

from collections.abc import Iterable

from gittrack.artifacts.aliases import LATEST, check_alias, set_alias
from gittrack.artifacts.artifact import Artifact, PlannedFile, PlannedReference
from gittrack.artifacts.manifest import ManifestEntry, first_clash
from gittrack.artifacts.references import resolve_reference
from gittrack.artifacts.versions import Draft, commit_version
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import UsageError
from gittrack.git.repo import Repository
from gittrack.storage.vault import BlobVault


def check_aliases(aliases: Iterable[str] | str | None) -> list[str]:
    """User aliases to set; ``latest`` is accepted and dropped (the head is always latest)."""
    if aliases is None:
        return []
    if isinstance(aliases, str):
        aliases = [aliases]
    return list(dict.fromkeys(check_alias(a) for a in aliases if a != LATEST))


def log_artifact(
    repo: Repository, art: Artifact, *, producer: str | None,
    aliases: Iterable[str] | str | None = None, storage: BlobVault | None = None,
) -> ArtifactVersion:
    """Store ``art`` and return its version: a new one, or the head if nothing changed."""
    if not isinstance(art, Artifact):
        raise UsageError(f"log_artifact takes a gittrack.Artifact, got {type(art).__name__}")
    wanted = check_aliases(aliases)
    if not len(art):
        raise UsageError(
            f"artifact {art.name} has no files: add_file, add_dir or add_reference first"
        )
    if storage is None:
        from gittrack.storage.project import open_storage

        storage = open_storage(repo)
    entries = _store(art, storage)
    draft = Draft(name=art.name, type=art.type, description=art.description,
                  metadata=art.metadata, producer=producer)
    info, _ = commit_version(repo, draft, entries)
    for alias in wanted:
        set_alias(repo, art.name, alias, info.commit)
    return ArtifactVersion(repo, info, storage)


def _store(art: Artifact, storage: BlobVault) -> list[ManifestEntry]:
    what = f"artifact {art.name}"
    files = [(p.name, p.source) for p in art.planned if isinstance(p, PlannedFile)]
    entries = storage.put_files(files, what=what) if files else []
    for planned in art.planned:
        if isinstance(planned, PlannedReference):
            entries += resolve_reference(planned, storage.reference_options)
    _check_unique(art.name, entries)
    return entries


def _check_unique(name: str, entries: list[ManifestEntry]) -> None:
    """A folder reference expands when logged; its files may meet names added directly."""
    clash = first_clash([entry.path for entry in entries])
    if clash:
        raise UsageError(f"artifact {name} would have {clash}")
