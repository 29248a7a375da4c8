"""Reading never writes: ``Api()`` on a repository with a dead run's write-ahead log commits
nothing, names the run in one warning, and ``Api(recover=True)`` folds it."""

from __future__ import annotations

import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import gittrack
from gittrack.errors import GittrackWarning
from tests.helpers.disks import read_only
from tests.helpers.reads import KILLED, kill, state

# The same run, alive until it is killed.
WAITING = KILLED.replace("os.kill(os.getpid(), signal.SIGKILL)",
                         "print('ready', flush=True)\nimport time\ntime.sleep(600)")


def dead_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, GittrackWarning)
            and "write-ahead log" in str(w.message)]


def read_everything() -> list[warnings.WarningMessage]:
    """What a reader does: open the repository, list runs, read one run's history."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api = gittrack.Api(".")
        assert [v.id for v in api.runs()] == ["dead"]
        view = api.run("dead")
        assert view.state == "crashed"  # as it stands: its writer is gone
        assert view.history(format="arrow").num_rows == 0  # the steps are in the log only
    return caught


def test_a_reader_writes_nothing(repo: Path) -> None:
    kill(repo, "dead")
    before = state(repo)
    assert before["wal"]  # the log is there to fold
    caught = read_everything()
    assert state(repo) == before
    [message] = dead_warnings(caught)
    assert message.startswith("gittrack: run dead crashed and its write-ahead log")
    assert "`gittrack recover`" in message


def test_recover_true_folds_the_log(repo: Path) -> None:
    kill(repo, "dead")
    before = state(repo)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # folded, not reported
        view = gittrack.Api(".", recover=True).run("dead")
    assert list(view.history(format="arrow").column("x").to_pylist()) == [0, 1, 2, 3, 4]
    after = state(repo)
    assert after["refs"] != before["refs"] and after["objects"] != before["objects"]
    assert after["wal"] == {}


def test_one_warning_per_dead_run(repo: Path) -> None:
    # Both die at once: a run started after the first one died would fold it (init writes).
    procs = [subprocess.Popen([sys.executable, "-c", WAITING.format(run_id=run_id)], cwd=repo,
                              stdout=subprocess.PIPE, text=True) for run_id in ("one", "two")]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        with proc:
            proc.send_signal(signal.SIGKILL)
        assert proc.returncode == -signal.SIGKILL
    with pytest.warns(GittrackWarning) as caught:
        gittrack.Api(".")
    assert sorted(m.split()[2] for m in dead_warnings(list(caught))) == ["one", "two"]


def test_a_reader_of_a_read_only_git(repo: Path) -> None:
    kill(repo, "dead")
    before = state(repo)
    with read_only(repo / ".git"):
        caught = read_everything()
    assert len(dead_warnings(caught)) == 1
    assert state(repo) == before
