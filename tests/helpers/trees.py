"""What a commit wrote into git, read with pygit2 as plain git would: the trees it made."""

from __future__ import annotations

from pathlib import Path

import pygit2


def tree_ids(repo: pygit2.Repository, tree: pygit2.Tree) -> set[str]:
    """Every tree reachable from ``tree`` (itself included)."""
    found, todo = set(), [tree]
    while todo:
        current = todo.pop()
        if str(current.id) in found:
            continue
        found.add(str(current.id))
        todo += [repo[e.id] for e in current if e.type_str == "tree"]
    return found


def new_tree_entries(path: Path, commit: str) -> int:
    """Entries of the tree objects ``commit`` has that its first parent has not: what the
    commit that made it wrote (the work of one checkpoint, in tree entries)."""
    repo = pygit2.Repository(str(path))
    new = repo[commit].peel(pygit2.Commit)
    old = tree_ids(repo, new.parents[0].tree) if new.parents else set()
    return sum(len(repo[oid]) for oid in tree_ids(repo, new.tree) - old)
