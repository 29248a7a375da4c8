from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gittrack
from tests.conftest import CliResult, run_python

Cli = Callable[..., CliResult]

KILLED_RUN = """\
import os, signal, gittrack
run = gittrack.init(name='killed', settings={'quiet': True, 'checkpoint_interval': 60})
for i in range(5):
    run.log({'x': i})
print(run.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def kill_a_run(repo: Path) -> str:
    return run_python(KILLED_RUN, cwd=repo, check=False).stdout.strip()


def test_nothing_to_recover(repo: Path, cli: Cli) -> None:
    result = cli("recover")
    assert (result.exit_code, result.stdout) == (0, "nothing to recover\n")


def test_recovers_a_killed_run(repo: Path, cli: Cli) -> None:
    run_id = kill_a_run(repo)
    result = cli("recover")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"recovered run killed ({run_id}): crashed, 5 steps\n"
    assert cli("recover").stdout == "nothing to recover\n"
    view = gittrack.Api(".").run(run_id)
    assert view.state == "crashed"
    assert list(view.history()["x"]) == [0, 1, 2, 3, 4]


def test_leaves_a_live_run_alone(repo: Path, cli: Cli, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(settings=fast_settings)
    run.log({"x": 1})
    result = cli("recover")
    assert result.stdout == (
        f"nothing to recover\nrun {run.id} is being written by a live process: left alone\n"
    )
    run.log({"x": 2})
    run.finish()
    assert gittrack.Api(".").run(run.id).state == "finished"


def test_other_commands_recover_first(repo: Path, cli: Cli) -> None:
    run_id = kill_a_run(repo)
    assert "crashed" in cli("show", run_id).stdout
    assert cli("recover").stdout == "nothing to recover\n"


def test_outside_a_repository(tmp_path: Path, cli: Cli) -> None:
    result = cli("-C", str(tmp_path), "recover")
    assert result.exit_code == 3
    assert "not inside a git repository" in result.stderr
