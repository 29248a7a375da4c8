"""Which stored blobs a set of commits needs: the mark phase of deletion and garbage
collection, and "which blobs must be in the store before these refs are pushed".

A blob is referenced by a row of the ``manifest.parquet`` of an artifact version commit. Every
commit reachable from the given ones is visited once (runs' and artifacts' chains alike): a
run commit has no manifest and contributes nothing, and an alias points into a version chain
that its artifact's ref usually reaches already (the walk skips what it has seen).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import ARTIFACT_YAML, MANIFEST, read_entries
from gittrack.git import history, objects
from gittrack.git.repo import Repository
from gittrack.types import CommitId


def _manifest_id(repo: Repository, commit: CommitId) -> str | None:
    """The object id of ``commit``'s ``manifest.parquet`` when it is an artifact version
    commit (both files there), else ``None`` (a run checkpoint)."""
    tree = objects.commit_tree(repo, commit)
    if objects.entry_id(tree, ARTIFACT_YAML) is None:
        return None
    return objects.entry_id(tree, MANIFEST)


def manifest_entries(
    repo: Repository, commits: Iterable[str], stop: Iterable[str] = (), *,
    marks_only: bool = False,
) -> Iterator[ManifestEntry]:
    """Every manifest row of every artifact version reachable from ``commits`` (and not from
    ``stop``); with ``marks_only`` (the mark phase of deletion), only each row's digest and
    blob name, read leniently (``manifest.read_marks``), so that a version a remote forged
    makes gc keep more rather than stop it."""
    seen_manifests: set[str] = set()
    for commit in history.reachable_commits(repo, commits, stop):
        manifest = _manifest_id(repo, commit)
        if manifest is None:
            continue
        if manifest in seen_manifests:  # a rewritten chain shares manifests with the old one
            continue
        seen_manifests.add(manifest)
        yield from read_entries(repo, commit, marks_only=marks_only)


def referenced_blobs(repo: Repository, commits: Iterable[str]) -> set[str]:
    """Names of the stored blobs that the artifact versions reachable from ``commits`` name.

    References (``add_reference``) have no blob and are not included.

    >>> referenced_blobs(repo, [versions.head(repo, "mnist")])  # doctest: +SKIP
    {'9f86d081884c7d65...', ...}
    """
    return set(referenced_entries(repo, commits))


def referenced_entries(repo: Repository, commits: Iterable[str],
                       stop: Iterable[str] = ()) -> dict[str, ManifestEntry]:
    """Blob name → one manifest row naming it, for the versions reachable from ``commits``
    and not from ``stop`` (e.g. what the remote already has)."""
    found: dict[str, ManifestEntry] = {}
    for entry in manifest_entries(repo, commits, stop):
        if entry.blob is not None:
            found.setdefault(entry.blob, entry)
    return found
