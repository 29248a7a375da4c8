from __future__ import annotations

from pathlib import Path

import pygit2

from gittrack.git import objects, refs
from gittrack.git.repo import drop_caches
from gittrack.types import CommitId
from tests.helpers.repos import git


def test_a_handle_whose_caches_were_dropped_reads_and_writes_on(repo: Path) -> None:
    """``drop_caches`` empties the object cache and closes the object database; the same
    handle, and the objects looked up before, go on working (the database reopens)."""
    handle = pygit2.Repository(str(repo))
    tree = handle[objects.write_tree(handle, None, {"a/b.txt": b"one", "c.txt": b"two"})]
    assert isinstance(tree, pygit2.Tree)
    drop_caches(handle)
    assert objects.read_file(handle, tree, "a/b.txt") == b"one"  # looked up before the drop
    again = handle[objects.write_tree(handle, tree, {"a/d.txt": b"three"})]
    assert isinstance(again, pygit2.Tree)
    commit = objects.commit(handle, again.id, [], "after a drop")
    drop_caches(handle)
    refs.update_ref(handle, "refs/gittrack/test", commit, None)
    drop_caches(handle)
    assert CommitId(git(repo, "rev-parse", "refs/gittrack/test").strip()) == commit
    assert git(repo, "show", f"{commit}:a/d.txt") == "three"
