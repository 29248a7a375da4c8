"""Removing one version from an artifact's chain: the chain re-committed without it.

The versions after the removed one are copied onto the one before it, each keeping its
number, metadata and manifest, its message, author, committer and dates; their
``artifact.yaml`` says ``format: 2``, which a gittrack that resolves ``vN`` by depth refuses
rather than name the wrong version. Removing the head instead copies the new head with
``next_version`` in its ``artifact.yaml``, so the next version logged never reuses the removed
number. Nothing here moves a ref (``gittrack.sync.remove_version`` does).

The rewrite is a pure function of the chain and the number removed: the same chain rewritten
in two clones (or here and from a remote's copy) gives the same commits, and a chain with more
versions on top is rewritten into a descendant of the shorter chain's rewrite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from gittrack.artifacts.versions import (
    ARTIFACT_YAML,
    GAPS_FORMAT,
    MANIFEST,
    chain,
    find_version,
    numbers,
    parent,
    read_info,
)
from gittrack.errors import FormatError
from gittrack.formats import yamlio
from gittrack.git import objects
from gittrack.git.repo import Repository
from gittrack.types import CommitId


@dataclasses.dataclass(frozen=True, slots=True)
class Removal:
    """Version ``name:v<number>`` removed from the chain ending at ``old_head``."""

    name: str
    number: int
    old_head: CommitId
    removed: CommitId
    new_head: CommitId | None
    """``None``: it was the only version, so the artifact goes."""
    copies: Mapping[CommitId, CommitId]
    """Each commit of the old chain that was re-committed → its copy."""
    left: tuple[int, ...]
    """The version numbers that remain, newest first."""

    @property
    def spec(self) -> str:
        return f"{self.name}:v{self.number}"

    def target(self, commit: CommitId) -> CommitId | None:
        """Where an alias naming ``commit`` goes: its copy, itself, or ``None`` (deleted)."""
        if self.new_head is None or commit == self.removed:
            return None
        return self.copies.get(commit, commit)


def plan_removal(repo: Repository, name: str, tip: CommitId, number: int) -> Removal:
    """Write the chain ending at ``tip`` without ``name:v<number>`` (objects only).

    ``NotFoundError`` (or ``VersionRemovedError``) when that chain has no such version.
    """
    removed = find_version(repo, name, tip, number)
    later: list[CommitId] = []
    for commit in chain(repo, tip):
        if commit == removed:
            break
        later.append(commit)
    below = parent(repo, removed)
    left = tuple(n for n in numbers(repo, name, tip) if n != number)
    if not later:  # the head: the one below becomes the head, remembering the number used
        if below is None:
            return Removal(name, number, tip, removed, None, {}, left)
        copy = _copy(repo, below, _parents(repo, below),
                     read_info(repo, removed, name).next_number)
        return Removal(name, number, tip, removed, copy, {below: copy}, left)
    copies: dict[CommitId, CommitId] = {}
    base = below
    for commit in reversed(later):
        base = _copy(repo, commit, [base] if base is not None else [])
        copies[commit] = base
    return Removal(name, number, tip, removed, base, copies, left)


def _parents(repo: Repository, commit: CommitId) -> list[CommitId]:
    below = parent(repo, commit)
    return [below] if below is not None else []


def _copy(repo: Repository, commit: CommitId, parents: list[CommitId],
          next_version: int | None = None) -> CommitId:
    """``commit`` on ``parents``, its ``artifact.yaml`` saying ``format: 2`` (a version is
    missing below it) and, for a new head, ``next_version``; every other key (``next_version``
    too, when not given), known or not, kept as it is. The manifest is untouched."""
    tree = objects.commit_tree(repo, commit)
    raw = objects.read_file(repo, tree, ARTIFACT_YAML)
    doc = yamlio.load(raw or b"", what=f"{ARTIFACT_YAML} of commit {commit[:12]}")
    if not isinstance(doc, dict):
        raise FormatError(f"commit {commit[:12]} has no readable {ARTIFACT_YAML}")
    if next_version is None:  # a copy keeps the mark it had (a head that lost its successors)
        next_version = doc.get("next_version")
    updated: dict[object, object] = {}
    for key, value in doc.items():
        if key != "next_version":
            updated[key] = GAPS_FORMAT if key == "format" else value
        if key == "version" and next_version is not None:
            updated["next_version"] = next_version
    new_tree = objects.write_tree(repo, tree, {ARTIFACT_YAML: yamlio.dump(updated)})
    return objects.recommit(repo, commit, parents, new_tree)


@dataclasses.dataclass(frozen=True, slots=True)
class ChainDiff:
    """Two chains of one artifact whose common numbers hold the same content: how they
    differ in numbers. ``removed_*``: numbers one side went past but lacks (removed there)."""

    removed_there: tuple[int, ...]
    removed_here: tuple[int, ...]
    only_here: tuple[int, ...]
    only_there: tuple[int, ...]


def compare_chains(repo: Repository, name: str, ours: CommitId,
                   theirs: CommitId) -> ChainDiff | None:
    """How the chain ``theirs`` of artifact ``name`` differs from ``ours`` by removed and
    added versions, or ``None`` when some number holds different content on each side (a
    plain divergence)."""
    mine, other = _contents(repo, name, ours), _contents(repo, name, theirs)
    if any(mine[n] != other[n] for n in mine.keys() & other.keys()):
        return None
    my_next = read_info(repo, ours, name).next_number
    their_next = read_info(repo, theirs, name).next_number
    return ChainDiff(
        removed_there=tuple(sorted(n for n in mine.keys() - other.keys() if n < their_next)),
        removed_here=tuple(sorted(n for n in other.keys() - mine.keys() if n < my_next)),
        only_here=tuple(sorted(n for n in mine.keys() - other.keys() if n >= their_next)),
        only_there=tuple(sorted(n for n in other.keys() - mine.keys() if n >= my_next)),
    )


def _contents(repo: Repository, name: str, tip: CommitId) -> dict[int, str]:
    """Version number → its manifest's object id, for the chain ending at ``tip``."""
    found = {}
    for commit in chain(repo, tip):
        tree = objects.commit_tree(repo, commit)
        found[read_info(repo, commit, name).version] = str(tree[MANIFEST].id)
    return found
