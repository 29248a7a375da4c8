from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gittrack
from gittrack.formats import walcodec
from tests.helpers.cli import CliResult
from tests.helpers.processes import killed_run

Cli = Callable[..., CliResult]


def kill_a_run(repo: Path) -> str:
    return killed_run(repo, init="name='killed', ",
                      settings="{'quiet': True, 'checkpoint_interval': 60}", steps=5)


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


def test_commands_that_write_recover_first(repo: Path, cli: Cli) -> None:
    run_id = kill_a_run(repo)
    shown = cli("show", run_id)  # a reader: shows the run as it stands, folds nothing
    assert "crashed" in shown.stdout
    assert f"gittrack: warning: run {run_id} crashed and its write-ahead log" in shown.stderr
    assert (repo / ".git" / "gittrack" / "wal" / run_id).is_dir()
    assert cli("gc").exit_code == 0
    assert cli("recover").stdout == "nothing to recover\n"


def test_outside_a_repository(tmp_path: Path, cli: Cli) -> None:
    result = cli("-C", str(tmp_path), "recover")
    assert result.exit_code == 3
    assert "not inside a git repository" in result.stderr


def poisoned_run(repo: Path) -> Path:
    """A dead run whose log holds a record that cannot be written (a lone surrogate)."""
    run_id = kill_a_run(repo)
    directory = repo / ".git" / "gittrack" / "wal" / run_id
    bad = ("log", 6, 1.0, None, None, {"f": "caf\udce9.txt"})
    (directory / f"{6:016d}.wal").write_bytes(walcodec.encode(bad))
    return directory


def test_a_run_that_cannot_be_recovered_breaks_no_command(repo: Path, cli: Cli) -> None:
    good = gittrack.init(name="good", settings={"quiet": True})
    good.finish()
    directory = poisoned_run(repo)
    run_id = directory.name
    for args in (("runs",), ("show", good.id), ("show", run_id), ("runs", "--state", "crashed")):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert f"gittrack: warning: run {run_id} crashed and its write-ahead log" in result.stderr
    listed = cli("runs", "--state", "crashed").stdout
    assert run_id[:10] in listed and good.id[:10] not in listed
    result = cli("recover")
    assert result.exit_code == 1
    assert f"could not recover run {run_id}: UnicodeEncodeError" in result.stdout
    assert str(directory) in result.stdout
    assert "1 run could not be recovered" in result.stderr
    assert directory.is_dir()  # kept, never deleted


def test_recover_reports_unrecoverable_and_recovers_the_rest(repo: Path, cli: Cli) -> None:
    bad = poisoned_run(repo).name
    fine = kill_a_run(repo)
    result = cli("recover")
    assert result.exit_code == 1
    assert f"recovered run killed ({fine}): crashed, 5 steps" in result.stdout
    assert f"could not recover run {bad}" in result.stdout
