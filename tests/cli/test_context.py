"""Commands that only read write nothing: on a repository with a dead run's write-ahead log
they show the run as it stands, with one warning; commands that write fold the log first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.disks import read_only
from tests.helpers.reads import kill, state

Cli = Callable[..., CliResult]

READERS = [("runs",), ("runs", "--state", "crashed", "--json"), ("show", "dead"),
           ("show", "dead", "--json"), ("log", "dead"), ("diff", "dead", "done"),
           ("artifact", "ls"), ("keys", "ls"), ("storage", "show"), ("gc", "--dry-run")]


@pytest.fixture
def dead(repo: Path, fast_settings: dict[str, object]) -> Path:
    with gittrack.init(id="done", name="done", settings=fast_settings) as run:
        run.log({"x": 1})
    kill(repo, "dead")
    return repo


def warned(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines()
            if line.startswith("gittrack: warning: run dead crashed and its write-ahead log")]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reader_writes_nothing(dead: Path, cli: Cli, args: tuple[str, ...]) -> None:
    before = state(dead)
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert len(warned(result)) == 1  # once, however often the command opens the repository
    assert state(dead) == before


def test_export_writes_only_its_files(dead: Path, cli: Cli, tmp_path: Path) -> None:
    before = state(dead)
    result = cli("export", "dead", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert len(warned(result)) == 1
    assert state(dead) == before
    assert (tmp_path / "out" / "dead" / "metadata.json").is_file()


def test_readers_on_a_read_only_git(dead: Path, cli: Cli) -> None:
    before = state(dead)
    with read_only(dead / ".git"):
        for args in (("runs",), ("show", "dead"), ("log", "dead")):
            result = cli(*args)
            assert result.exit_code == 0, (args, result.stderr)
            assert len(warned(result)) == 1
        assert "crashed" in cli("show", "dead").stdout
    assert state(dead) == before


@pytest.mark.parametrize("args", [("recover",), ("gc",), ("rm", "done", "--yes")], ids=" ".join)
def test_a_writer_folds_the_log_first(dead: Path, cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert warned(result) == []
    assert state(dead)["wal"] == {}
    assert cli("log", "dead").stdout.split()[-2:] == ["4", "4"]  # every step, folded
