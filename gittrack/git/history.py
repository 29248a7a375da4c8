"""Walking commit history: the code's (for ``gittrack diff``) and the chains that refs under
``refs/gittrack/`` reach (for the mark phase of deletion and garbage collection)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import pygit2

from gittrack.git import objects
from gittrack.types import CommitId


def lookup_commit(repo: pygit2.Repository, sha: str | None) -> pygit2.Commit | None:
    """The commit ``sha`` names, or ``None`` if it is missing or not a commit."""
    if not sha:
        return None
    try:
        obj = repo.get(sha)
    except (ValueError, pygit2.GitError):
        return None
    return obj if isinstance(obj, pygit2.Commit) else None


def exists(repo: pygit2.Repository, sha: str) -> bool:
    """Whether the object ``sha`` is here (any kind; ``False`` for a malformed id)."""
    try:
        return repo.get(sha) is not None
    except (ValueError, TypeError, pygit2.GitError):
        return False


def descends(repo: pygit2.Repository, tip: str, ancestor: str) -> bool:
    """Whether commit ``tip`` reaches commit ``ancestor`` through its parents (``tip`` itself
    excluded, as ``git merge-base --is-ancestor`` with two different commits). ``False`` when
    either is missing or not a commit: what is not here reaches nothing."""
    if lookup_commit(repo, tip) is None or lookup_commit(repo, ancestor) is None:
        return False
    try:
        return bool(repo.descendant_of(tip, ancestor))
    except (ValueError, KeyError, pygit2.GitError):  # a parent missing in a partial clone
        return False


def reaches(repo: pygit2.Repository, tip: str, commit: str) -> bool:
    """Whether ``commit`` is ``tip`` or one of its ancestors: the one ancestry question of
    sync and artifacts ("does the remote have it", "is this alias on the chain"). Ids come
    from remotes and hook input, so any of them may be forged, missing, malformed or name a
    blob: those reach nothing (``False``), never an exception."""
    return tip == commit or descends(repo, tip, commit)


def is_commit(repo: pygit2.Repository, sha: str | None) -> bool:
    """Whether ``sha`` names a commit here (``False`` for anything missing or forged)."""
    return lookup_commit(repo, sha) is not None


@dataclasses.dataclass(frozen=True, slots=True)
class CommitLine:
    """A commit as one line of ``git log --oneline``."""

    sha: CommitId
    short: str
    subject: str


def walk_range(
    repo: pygit2.Repository, tip: str, *, hide: str, oldest_first: bool
) -> Iterator[CommitLine]:
    """Commits reachable from ``tip`` but not from ``hide``: what ``git log hide..tip`` lists
    (nothing when either is not a commit here)."""
    new, old = lookup_commit(repo, tip), lookup_commit(repo, hide)
    if new is None or old is None:
        return
    order = pygit2.enums.SortMode.TOPOLOGICAL
    if oldest_first:
        order |= pygit2.enums.SortMode.REVERSE
    walker = repo.walk(new.id, order)
    walker.hide(old.id)
    for commit in walker:
        yield _line(commit)


def _line(commit: pygit2.Commit) -> CommitLine:
    message = commit.raw_message.decode("utf-8", "replace")
    subject = message.strip().splitlines()[0] if message.strip() else ""
    return CommitLine(CommitId(str(commit.id)), commit.short_id, subject)


def first_parents(repo: pygit2.Repository, tip: str) -> Iterator[CommitId]:
    """``tip`` and its first parents, newest first: a chain of versions or of checkpoints.
    Lazily: a commit whose parent cannot be read (missing, not a commit) raises as
    ``objects.parent_ids`` does once the walk reaches it."""
    commit: CommitId | None = CommitId(tip)
    while commit is not None:
        yield commit
        commit = objects.first_parent(repo, commit)


def reachable_commits(repo: pygit2.Repository, commits: Iterable[str],
                      stop: Iterable[str] = ()) -> Iterator[CommitId]:
    """Every commit reachable from ``commits`` (themselves included) and not from ``stop``,
    each once, in no particular order.

    Ids that name no commit here are skipped: a shallow or partial clone, a remote's commit
    not fetched, or a ref a remote pointed at a blob or a tree (it reaches no commit).
    """
    walker = repo.walk(None, pygit2.enums.SortMode.NONE)
    pushed = False
    for commit in commits:
        found = lookup_commit(repo, str(commit))
        if found is not None:
            walker.push(found.id)
            pushed = True
    if not pushed:
        return
    for commit in stop:
        found = lookup_commit(repo, str(commit))
        if found is not None:
            walker.hide(found.id)
    for found in walker:
        yield CommitId(str(found.id))


def resolve(repo: pygit2.Repository, rev: str) -> CommitId | None:
    """The commit ``rev`` names as git would (a full or short SHA, a branch, a tag,
    ``HEAD~2``), or ``None`` when it names no commit here."""
    try:
        found = repo.revparse_single(rev)
        commit = found.peel(pygit2.Commit)
    except (KeyError, ValueError, TypeError, pygit2.GitError):
        return None
    return CommitId(str(commit.id))


def rev_list(repo: pygit2.Repository, hide: str, tip: str) -> list[CommitId] | None:
    """``git rev-list hide..tip`` (either end any revision ``resolve`` takes; an empty end is
    ``HEAD``, as in git), or ``None`` when an end names no commit here."""
    new, old = resolve(repo, tip or "HEAD"), resolve(repo, hide or "HEAD")
    if new is None or old is None:
        return None
    return [line.sha for line in walk_range(repo, new, hide=old, oldest_first=False)]
