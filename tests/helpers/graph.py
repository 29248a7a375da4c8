"""For the decision tables of the sync modules: ref states with made-up commits (``state``),
and a small commit graph in a real repository, made with ``git commit-tree``, where a
decision asks git about ancestry:

    base ── a1 ── a2        (a run or artifact that grew)
        └── b1              (the same ref, grown elsewhere: diverged from a1)
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pygit2

from gittrack.sync.compare import RefState, Standing
from gittrack.types import CommitId
from tests.helpers.repos import git, make_repo

RUNS = "refs/gittrack/runs/"
L, R = CommitId("1" * 40), CommitId("2" * 40)
"""The local and the remote value of a ref, in ``state``."""
MISSING = CommitId("f" * 40)
"""A commit this repository does not have (a remote's we never fetched, or a forged one)."""


@dataclasses.dataclass(frozen=True)
class Graph:
    path: Path
    repo: pygit2.Repository
    base: CommitId
    a1: CommitId
    a2: CommitId
    b1: CommitId


def commit(path: Path, message: str, *parents: str) -> CommitId:
    tree = subprocess.run(["git", "mktree"], cwd=path, input="", capture_output=True,
                          text=True, check=True).stdout.strip()
    args = [a for p in parents for a in ("-p", p)]
    return CommitId(git(path, "commit-tree", tree, *args, "-m", message).strip())


def make_graph(path: Path) -> Graph:
    make_repo(path, commit=False)
    base = commit(path, "base")
    a1 = commit(path, "a1", base)
    a2 = commit(path, "a2", a1)
    b1 = commit(path, "b1", base)
    return Graph(path, pygit2.Repository(str(path)), base, a1, a2, b1)


def state(standing: Standing, ref: str = RUNS + "r") -> RefState:
    """A ref at ``L`` here and ``R`` there, or absent on the side ``standing`` says."""
    local = None if standing is Standing.REMOTE_ONLY else L
    remote = None if standing in (Standing.LOCAL_ONLY, Standing.DELETED) else R
    return RefState(ref, local, remote, standing)
