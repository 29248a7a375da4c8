"""git/prune.py killed at every step: ``git fsck`` passes whatever the moment (the
commit-graph never lists a commit that is gone), and running the deletion again is not
needed for that."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.repos import git, objects_containing
from tests.helpers.runs import marked_run, marker

POINTS = ["prune.graph-written", "prune.object-unlinked", "prune.repacked", "prune.done"]


def _packed_and_loose_runs(repo: Path) -> tuple[str, str]:
    """A run whose objects are packed (and in the commit-graph), one with loose objects."""
    packed = marked_run(marker())
    git(repo, "config", "gc.writeCommitGraph", "true")
    git(repo, "gc", "-q")
    assert (repo / ".git" / "objects" / "info" / "commit-graph").exists()
    return packed, marked_run(marker())


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("which", ["packed", "loose", "split-graph-and-midx"])
def test_a_kill_during_pruning_leaves_fsck_passing(repo: Path, point: str, which: str) -> None:
    packed, loose = _packed_and_loose_runs(repo)
    victim = loose if which == "loose" else packed
    if which == "split-graph-and-midx":
        git(repo, "commit-graph", "write", "--reachable", "--split")
        git(repo, "multi-pack-index", "write")
    else:
        git(repo, "commit-graph", "write", "--reachable")  # the loose run's commits too
    env = {**os.environ, "GITTRACK_FAULT": point}
    done = subprocess.run([sys.executable, "-m", "gittrack", "rm", "--yes", victim], cwd=repo,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    assert victim not in git(repo, "for-each-ref")
    fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, capture_output=True,
                          text=True, check=False)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert "error" not in fsck.stderr
    assert git(repo, "log", "--oneline", "-1")  # the user's branch is readable


def test_pruning_removes_the_objects_and_keeps_the_commit_graph(repo: Path) -> None:
    mark = marker()
    packed = marked_run(mark)
    git(repo, "gc", "-q")
    subprocess.run([sys.executable, "-m", "gittrack", "rm", "--yes", packed], cwd=repo,
                   check=True, capture_output=True)
    assert objects_containing(repo, mark) == 0
    assert (repo / ".git" / "objects" / "info" / "commit-graph").exists()
    git(repo, "fsck", "--no-dangling")
