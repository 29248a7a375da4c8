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

The other rewrite is a rebase (``plan_rebase``), what ``gittrack pull`` does with versions
logged here while a teammate logged others: the versions made here since the last sync are
committed again on top of the remote's chain, renumbered from its tip (Alice's ``v5`` stays,
Bob's becomes ``v6``), each recording the commit it was copied from (``replaces``, which the
runs that logged or used it recorded); a version whose content one of the teammate's new
versions already has is dropped for that one (collapsed). With nothing made here, the same
plan takes a chain the remote rewrote by removing versions (``artifact rm`` by a teammate).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from gittrack.artifacts.versions import (
    ARTIFACT_YAML,
    GAPS_FORMAT,
    MANIFEST,
    VersionInfo,
    chain,
    find_version,
    manifest_id,
    numbers,
    parent,
    read_info,
)
from gittrack.errors import FormatError, GittrackError
from gittrack.formats import yamlio
from gittrack.git import history, objects
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


@dataclasses.dataclass(frozen=True, slots=True)
class Rebase:
    """The versions of ``name`` made here since the last sync, put on top of the remote's
    chain (``onto``); ``new_head`` is what the local ref becomes."""

    name: str
    old_head: CommitId
    onto: CommitId
    new_head: CommitId
    copies: Mapping[CommitId, CommitId]
    """Each version made here → its copy on top of the remote's chain."""
    collapsed: Mapping[CommitId, CommitId]
    """Each version made here whose content a teammate's new version has → that version."""
    renumbered: tuple[tuple[int, int], ...]
    """``(number here before, number now)`` of each copy, oldest first."""
    merged: tuple[tuple[int, int], ...]
    """``collapsed`` as numbers: ``(number here before, the teammate's number)``."""
    shared: Mapping[CommitId, CommitId | None]
    """Versions the remote had (the last sync) and rewrote or removed since: their copy on
    the remote's chain, or ``None`` (removed there)."""
    removed: tuple[int, ...]
    """Numbers the teammate removed that this pull removes here too."""

    def target(self, commit: CommitId) -> CommitId | None:
        """Where an alias naming ``commit`` goes: its copy or twin, itself, or ``None``
        (the version was removed on the remote)."""
        if commit in self.copies:
            return self.copies[commit]
        if commit in self.collapsed:
            return self.collapsed[commit]
        return self.shared.get(commit, commit)


def plan_rebase(repo: Repository, name: str, ours: CommitId, theirs: CommitId,
                last_seen: CommitId | None) -> Rebase | None:
    """Write ``ours``'s new versions on top of ``theirs`` (objects only; no ref moves).

    "New" is what the remote did not have at the last sync (``last_seen``: its head then,
    ``None`` if never synced): the versions of ``ours`` above the first one that ``theirs``
    or ``last_seen`` reaches. ``None`` when the chains cannot be joined that way: this clone
    removed a version the remote still has, the artifact's types differ, or a chain is not an
    artifact's (forged); the ref then stays diverged, as before.
    """
    try:
        return _plan_rebase(repo, name, ours, theirs, last_seen)
    except (GittrackError, KeyError):  # KeyError: a forged commit without a manifest
        return None


def _plan_rebase(repo: Repository, name: str, ours: CommitId, theirs: CommitId,
                 last_seen: CommitId | None) -> Rebase | None:
    there = list(chain(repo, theirs))
    on_remote = set(there)
    seen = set(chain(repo, last_seen)) if last_seen and history.exists(repo, last_seen) \
        else set()
    mine: list[CommitId] = []
    base: CommitId | None = None
    for commit in chain(repo, ours):
        if commit in on_remote or commit in seen:
            base = commit
            break
        mine.append(commit)
    mine.reverse()
    if base is None and seen:
        return None  # nothing the remote had is in our chain: rewritten here
    if _copies_of_shared(repo, name, mine, [*there, *seen]):
        return None  # this clone removed a version the remote has: `artifact rm` advice
    shared: dict[CommitId, CommitId | None] = {}
    removed: list[int] = []
    if base is not None and base not in on_remote:
        # The remote rewrote what both sides had (a teammate's `artifact rm`): follow it,
        # unless this clone removed something the remote still has.
        diff = compare_chains(repo, name, base, theirs)
        if diff is None or diff.removed_here or diff.only_here:
            return None
        contents = _contents(repo, name, theirs)
        by_number = {read_info(repo, c, name).version: c for c in there}
        for commit in chain(repo, base):
            if commit in on_remote:
                break
            number = read_info(repo, commit, name).version
            twin = by_number.get(number)
            same = twin is not None and contents[number] == manifest_id(repo, commit)
            shared[commit] = twin if same else None
            if not same:
                removed.append(number)
        floor = read_info(repo, base, name).version
        new_there = [c for c in there if read_info(repo, c, name).version > floor]
    else:
        new_there = [c for c in there if c != base] if base is None else \
            there[:there.index(base)]
    if not mine and not shared:
        return None  # nothing to carry over: not a divergence a rebase settles
    twins = {manifest_id(repo, c): c for c in reversed(new_there)}  # newest wins
    tip, tip_info = theirs, read_info(repo, theirs, name)
    copies: dict[CommitId, CommitId] = {}
    collapsed: dict[CommitId, CommitId] = {}
    renumbered: list[tuple[int, int]] = []
    merged: list[tuple[int, int]] = []
    for commit in mine:
        info = read_info(repo, commit, name)
        if info.type != tip_info.type:
            return None
        content = manifest_id(repo, commit)
        twin = twins.get(content) or (tip if content == manifest_id(repo, tip) else None)
        if twin is not None:
            collapsed[commit] = twin
            merged.append((info.version, read_info(repo, twin, name).version))
            continue
        number = tip_info.next_number
        tip = _rebased(repo, commit, tip, number, tip_info.format, info)
        tip_info = read_info(repo, tip, name)
        copies[commit] = tip
        renumbered.append((info.version, number))
    return Rebase(name, ours, theirs, tip, copies, collapsed, tuple(renumbered),
                  tuple(merged), shared, tuple(sorted(removed)))


def _copies_of_shared(repo: Repository, name: str, mine: list[CommitId],
                      shared: list[CommitId]) -> bool:
    """Whether a version of ``mine`` is a shared version re-committed here (a removal below
    it: the same number, content and creation time), rather than one logged here."""
    if not any(read_info(repo, c, name).format == GAPS_FORMAT for c in mine):
        return False
    known = {(i.version, i.created_at, manifest_id(repo, c))
             for c in set(shared) for i in [read_info(repo, c, name)]}
    return any((i.version, i.created_at, manifest_id(repo, c)) in known
               for c in mine for i in [read_info(repo, c, name)])


def _rebased(repo: Repository, commit: CommitId, parent_id: CommitId, number: int,
             version_format: int, info: VersionInfo) -> CommitId:
    """``commit`` on ``parent_id`` as ``v<number>``: its ``artifact.yaml`` with that number,
    the format of the chain below (gaps stay below), no ``next_version``, and ``replaces``
    naming ``commit`` (after what it already named); every other key kept, the manifest too.
    """
    tree = objects.commit_tree(repo, commit)
    raw = objects.read_file(repo, tree, ARTIFACT_YAML)
    doc = yamlio.load(raw or b"", what=f"{ARTIFACT_YAML} of commit {commit[:12]}")
    if not isinstance(doc, dict):
        raise FormatError(f"commit {commit[:12]} has no readable {ARTIFACT_YAML}")
    updated: dict[object, object] = {}
    for key, value in doc.items():
        if key == "format":
            updated[key] = version_format
        elif key == "version":
            updated[key] = number
        elif key not in ("next_version", "replaces"):
            updated[key] = value
    updated["replaces"] = [*info.replaces, str(commit)]
    new_tree = objects.write_tree(repo, tree, {ARTIFACT_YAML: yamlio.dump(updated)})
    by = f" (run {info.producer})" if info.producer else ""
    return objects.recommit(repo, commit, [parent_id], new_tree,
                            f"gittrack: artifact {info.name}:v{number}{by}")
