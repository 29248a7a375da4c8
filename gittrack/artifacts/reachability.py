"""Artifact versions as a kind of ref that names stored blobs (``storage.reachability``).

A blob is named by a row of the ``manifest.parquet`` of an artifact version commit. The walk
over history is the storage's (every commit once, runs' and artifacts' chains alike): a run
commit has no manifest and contributes nothing here, and a manifest already read in the same
walk (a rewritten chain shares its manifests with the old one) is not read again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gittrack.git import namespace
from gittrack.types import CommitId

if TYPE_CHECKING:  # registering (at ``import gittrack.artifacts``) loads no git, no Parquet
    from gittrack.artifacts.manifest import ManifestEntry
    from gittrack.git.repo import Repository
    from gittrack.storage.reachability import Reader


class ArtifactVersions:
    """Artifact and alias refs: their commits name blobs in ``manifest.parquet``."""

    def owns(self, ref: str) -> bool:
        return ref.startswith((namespace.ARTIFACTS, namespace.ALIASES))

    def reader(self, repo: Repository, *, marks_only: bool) -> Reader:
        seen: set[str] = set()

        def read(commit: CommitId) -> Iterable[ManifestEntry]:
            manifest = _manifest_id(repo, commit)
            if manifest is None or manifest in seen:
                return ()
            seen.add(manifest)
            from gittrack.artifacts.versions import read_entries

            return read_entries(repo, commit, marks_only=marks_only)

        return read


ARTIFACT_VERSIONS = ArtifactVersions()


def _manifest_id(repo: Repository, commit: CommitId) -> str | None:
    """The object id of ``commit``'s ``manifest.parquet`` when it is an artifact version
    commit (both files there), else ``None`` (a run checkpoint)."""
    from gittrack.artifacts.versions import ARTIFACT_YAML, MANIFEST
    from gittrack.git import objects

    tree = objects.commit_tree(repo, commit)
    if objects.entry_id(tree, ARTIFACT_YAML) is None:
        return None
    return objects.entry_id(tree, MANIFEST)
