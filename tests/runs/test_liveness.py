"""Which runs are live: every worktree's logs, the writer's lock (real processes, real locks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gittrack.errors import RunLockedError
from gittrack.git.repo import discover
from gittrack.runs import liveness
from gittrack.types import RunId
from tests.helpers.processes import held, killed, linked_worktree, live_script, training_script

# Writes a run until told to stop (a line on stdin).
WRITING = live_script(init="id='busy', ", before="run.log({'x': 1})\n")

# Holds an exclusive flock on a file until told to stop, as a writer holds its log's lock.
LOCKING = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print('ready', flush=True)
sys.stdin.readline()
"""


def wal(git_dir: Path) -> Path:
    return git_dir / "gittrack" / "wal"


@contextlib.contextmanager
def running(code: str, cwd: Path, first: str, *args: str) -> Iterator[None]:
    """``code`` runs while the block runs (it printed ``first``), then is told to stop."""
    with held(code, cwd, *args) as (proc, said):
        assert said == first
        yield
    assert proc.returncode == 0


def test_nothing_logged_nothing_live(repo: Path) -> None:
    here = discover(".")
    assert liveness.run_logs(here) == []
    assert liveness.live_runs(here) == set() and liveness.unfolded_runs(here) == set()


def test_a_live_run_in_another_worktree(repo: Path) -> None:
    linked = linked_worktree(repo)
    with running(WRITING, linked, "busy"):
        here = discover(".")  # the main worktree asks
        [log] = liveness.run_logs(here)
        assert (log.run_id, log.live) == ("busy", True)
        assert log.directory == wal(repo / ".git" / "worktrees" / "linked") / "busy"
        assert liveness.live_runs(here) == {"busy"}
        assert liveness.dead_logs(here) == [] and liveness.dead_log(here, RunId("busy")) is None
        with pytest.raises(RunLockedError, match="busy"), \
                liveness.held_logs(here, [RunId("busy")]):
            pass
    assert liveness.run_logs(discover(".")) == []  # finished: its log is gone


def test_a_dead_run(repo: Path) -> None:
    killed(training_script(init="id='dead', ", steps=1), repo)
    here = discover(".")
    directory = wal(repo / ".git") / "dead"
    assert liveness.live_runs(here) == set()
    assert liveness.unfolded_runs(here) == {"dead"}  # pull leaves its ref alone
    assert [(d.run_id, d.directory) for d in liveness.dead_logs(here)] == [("dead", directory)]
    assert liveness.dead_log(here, RunId("dead")) == directory
    with liveness.held_logs(here, [RunId("dead")]) as keep:
        assert liveness.run_logs(here)[0].live  # held while the run is deleted
        keep.add("other")
    assert not directory.exists()  # deleted with its run


def test_a_lock_held_by_another_process(repo: Path) -> None:
    directory = wal(repo / ".git") / "locked"
    directory.mkdir(parents=True)
    (directory / ".tmp-starting").mkdir()  # not a run: a folder a starting writer renames
    (wal(repo / ".git") / ".tmp-other-1").mkdir()
    here = discover(".")
    with running(LOCKING, repo, "ready", str(directory / "lock")):
        assert [(log.run_id, log.live) for log in liveness.run_logs(here)] == [("locked", True)]
        assert liveness.live_runs(here) == {"locked"}
        with pytest.raises(RunLockedError), liveness.held_logs(here, [RunId("locked")]):
            pass
    assert liveness.live_runs(here) == set()  # the kernel dropped the lock with the process
    assert liveness.dead_log(here, RunId("locked")) == directory
    with liveness.held_logs(here, [RunId("locked")]) as keep:
        keep.add("locked")  # not deleted after all: its log stays
    assert directory.is_dir()

