"""Which stored blobs a set of commits needs: the mark phase of deletion and garbage
collection, and "which blobs must be in the store before these refs are pushed".

A blob is referenced by a row of the ``manifest.parquet`` of an artifact version commit. Every
commit reachable from the given ones is visited once (runs' and artifacts' chains alike): a
run commit has no manifest and contributes nothing, and an alias points into a version chain
that its artifact's ref usually reaches already (the walk skips what it has seen).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pygit2

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import ARTIFACT_YAML, MANIFEST, read_entries
from gittrack.types import CommitId


def reachable_commits(repo: pygit2.Repository, commits: Iterable[str],
                      stop: Iterable[str] = ()) -> Iterator[CommitId]:
    """Every commit reachable from ``commits`` (themselves included) and not from ``stop``,
    each once.

    Commits missing from the object database (a shallow or partial clone, or a remote's
    commit not fetched) are skipped: what is not here cannot be walked.
    """
    walker = repo.walk(None, pygit2.enums.SortMode.NONE)
    pushed = False
    for commit in commits:
        oid = _oid(repo, commit)
        if oid is not None:
            walker.push(oid)
            pushed = True
    if not pushed:
        return
    for commit in stop:
        oid = _oid(repo, commit)
        if oid is not None:
            walker.hide(oid)
    for found in walker:
        yield CommitId(str(found.id))


def _oid(repo: pygit2.Repository, commit: str) -> pygit2.Oid | None:
    try:
        oid = pygit2.Oid(hex=str(commit))
    except (ValueError, TypeError):
        return None
    return oid if oid in repo else None


def is_version_commit(repo: pygit2.Repository, commit: CommitId) -> bool:
    tree = repo[commit].tree
    return ARTIFACT_YAML in tree and MANIFEST in tree


def manifest_entries(
    repo: pygit2.Repository, commits: Iterable[str], stop: Iterable[str] = ()
) -> Iterator[ManifestEntry]:
    """Every manifest row of every artifact version reachable from ``commits`` (and not from
    ``stop``)."""
    seen_manifests: set[str] = set()
    for commit in reachable_commits(repo, commits, stop):
        if not is_version_commit(repo, commit):
            continue
        manifest = str(repo[commit].tree[MANIFEST].id)
        if manifest in seen_manifests:  # a rewritten chain shares manifests with the old one
            continue
        seen_manifests.add(manifest)
        yield from read_entries(repo, commit)


def referenced_blobs(repo: pygit2.Repository, commits: Iterable[str]) -> set[str]:
    """Names of the stored blobs that the artifact versions reachable from ``commits`` name.

    References (``add_reference``) have no blob and are not included.

    >>> referenced_blobs(repo, [versions.head(repo, "mnist")])  # doctest: +SKIP
    {'9f86d081884c7d65...', ...}
    """
    return set(referenced_entries(repo, commits))


def referenced_entries(repo: pygit2.Repository, commits: Iterable[str],
                       stop: Iterable[str] = ()) -> dict[str, ManifestEntry]:
    """Blob name → one manifest row naming it, for the versions reachable from ``commits``
    and not from ``stop`` (e.g. what the remote already has)."""
    found: dict[str, ManifestEntry] = {}
    for entry in manifest_entries(repo, commits, stop):
        if entry.blob is not None:
            found.setdefault(entry.blob, entry)
    return found
