"""Walking the code's commit history (for ``gittrack diff``)."""

from __future__ import annotations

from collections.abc import Iterator

import pygit2


def lookup_commit(repo: pygit2.Repository, sha: str | None) -> pygit2.Commit | None:
    """The commit ``sha`` names, or ``None`` if it is missing or not a commit."""
    if not sha:
        return None
    try:
        obj = repo.get(sha)
    except (ValueError, pygit2.GitError):
        return None
    return obj if isinstance(obj, pygit2.Commit) else None


def walk_range(
    repo: pygit2.Repository, tip: pygit2.Commit, *, hide: pygit2.Commit, oldest_first: bool
) -> Iterator[pygit2.Commit]:
    """Commits reachable from ``tip`` but not from ``hide``: what ``git log hide..tip`` lists."""
    order = pygit2.enums.SortMode.TOPOLOGICAL
    if oldest_first:
        order |= pygit2.enums.SortMode.REVERSE
    walker = repo.walk(tip.id, order)
    walker.hide(hide.id)
    return iter(walker)
