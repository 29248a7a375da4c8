"""Removing from the object database exactly the objects that only some deleted refs reached.

``git gc --prune=now`` would also do it, but it rewrites the user's whole repository and drops
*every* unreachable object, including the user's own safety net (a dropped stash, a deleted
branch, kept two weeks by ``gc.pruneExpire``). Instead, after the refs are deleted we ask git
which objects the old tips reach that nothing else does (refs, reflogs, HEAD, the index),
unlink those that are loose, and only if some are packed, repack with
``-A`` — which, like ``git gc``, turns the user's unreachable packed objects into loose ones
that keep their age, and lets us unlink ours. See ``docs/decisions.md``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pygit2

from gittrack.errors import RepositoryError
from gittrack.git import command, faults


@dataclasses.dataclass(frozen=True, slots=True)
class PruneReport:
    removed: int  # objects gone from this repository
    kept: tuple[str, ...] = ()  # objects that could not be removed (an alternate, a .keep pack)


def _git(repo: pygit2.Repository, args: Sequence[str], stdin: str | None = None) -> str:
    what = f"`git {' '.join(args[:2])}` in {repo.path}"
    return command.run(repo, args, what=what, error=RepositoryError, stdin=stdin,
                       git_dir=True).stdout


def only_reachable_from(repo: pygit2.Repository, tips: Iterable[str]) -> list[str]:
    """Objects reachable from ``tips`` and from no ref, reflog entry, HEAD or the index.

    Call it after the refs pointing at ``tips`` are deleted. ``rev-list A --not B`` alone is
    not enough: it excludes only objects of B's commits at the edge of the walk, so a blob an
    older commit of B shares with A would be listed. Those candidates are checked against
    everything still reachable — the same full marking ``git prune`` does.
    """
    present = [t for t in dict.fromkeys(tips) if t in repo]
    if not present:
        return []
    live = ["--all", "--reflog", "--indexed-objects"]
    # --stdin is read where it stands, so the tips are positive and what follows is negated.
    # A deleted run may be missing objects (damaged, or a forged tree): what is missing has
    # nothing to prune, and what lies beyond it is not listed, so it is kept (the safe side).
    candidates = _git(repo, ["rev-list", "--objects", "--no-object-names", "--missing=allow-any",
                             "--stdin", "--not", *live],
                      stdin="\n".join(present) + "\n").split()
    if not candidates:
        return []
    reachable = set(_git(repo, ["rev-list", "--objects", "--no-object-names", *live]).split())
    return [oid for oid in candidates if oid not in reachable]


def prune_objects(
    repo: pygit2.Repository, objects: Sequence[str], since: float | None = None
) -> PruneReport:
    """Delete ``objects`` (ids from ``only_reachable_from``) from this repository.

    A loose object written again after ``since`` (git and libgit2 refresh the mtime of an
    object they would have written) is kept: another process has just started using it.

    Indexes first, objects last, so that a kill at any moment leaves ``git fsck`` passing:
    the commit-graph is rewritten from the refs (which no longer reach ``objects``) before
    any object goes; a pack is replaced by ``git repack`` itself, which writes the new pack
    (and its index) before deleting the old.
    """
    if not objects:
        return PruneReport(0)
    _rewrite_commit_graph(repo)
    faults.point("prune.graph-written")
    _unlink_loose(repo, objects, since)
    faults.point("prune.object-unlinked")
    left = _still_present(repo, objects)
    if left:
        # Packed: a pack cannot lose one object; rewrite the packs without anything
        # unreachable (that becomes loose, with its age), then unlink ours.
        _git(repo, ["repack", "-a", "-d", "-A", "-q"])
        faults.point("prune.repacked")
        _unlink_loose(repo, left)
        left = _still_present(repo, left)
    faults.point("prune.done")
    return PruneReport(len(objects) - len(left), tuple(left))


def prune_unreachable(repo: pygit2.Repository, tips: Iterable[str]) -> PruneReport:
    """``only_reachable_from`` then ``prune_objects``."""
    started = time.time()
    return prune_objects(repo, only_reachable_from(repo, tips), since=started)


def _objects_dir(repo: pygit2.Repository) -> Path:
    return Path(repo.path) / "objects"


def _unlink_loose(
    repo: pygit2.Repository, objects: Iterable[str], since: float | None = None
) -> None:
    root = _objects_dir(repo)
    for oid in objects:
        path = root / oid[:2] / oid[2:]
        try:
            if since is None or path.stat().st_mtime <= since:
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise RepositoryError(f"cannot remove the object {path}: {exc.strerror or exc}; "
                                  "the refs are deleted, the object stays until `git gc`") \
                from None


def _rewrite_commit_graph(repo: pygit2.Repository) -> None:
    """A commit-graph (written by ``git gc``) that lists a removed commit makes ``git fsck``
    report it unreadable. Rewritten from what the refs reach (a split chain becomes one
    file), as ``git gc`` would, before the commits go: it never names them."""
    info = _objects_dir(repo) / "info"
    if (info / "commit-graph").exists() or (info / "commit-graphs").is_dir():
        _git(repo, ["commit-graph", "write", "--reachable"])


def _still_present(repo: pygit2.Repository, objects: Sequence[str]) -> list[str]:
    out = _git(repo, ["cat-file", "--batch-check=%(objectname)"], stdin="\n".join(objects) + "\n")
    return [line for line in out.split("\n") if line and not line.endswith(" missing")]
