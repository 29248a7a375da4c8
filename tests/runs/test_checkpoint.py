"""Checkpoints write chunks that every reader can read back (issue 8: "stored and read back
equal, or refused")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from gittrack.formats import table
from gittrack.runs import layout
from tests.helpers.cli import CliResult
from tests.helpers.processes import killed_run
from tests.helpers.repos import git

SMALL_BOUND = 8 << 20  # the reader bound, made small so that 20 MB of strings pass it
BIG = 1_000_000


def value(step: int) -> str:
    return f"{step:04d}" + "a" * (BIG - 4)


def chunk_names(repo: Path, run_id: str, folder: str) -> list[str]:
    """The chunk file names in ``folder`` and its level folders, in row order."""
    out = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run_id}", f"{folder}/")
    return sorted((line.split("/")[-1] for line in out.split()),
                  key=lambda name: layout.chunk_range(name) or (-1, -1))


def check_read_back(repo: Path, run_id: str, steps: int) -> None:
    view = gittrack.Api(".", recover=True).run(run_id)
    assert [r["s"] for r in view.scan_history()] == [value(s) for s in range(steps)]
    names = chunk_names(repo, run_id, "history")
    assert len(names) > 1  # split: one chunk would pass the reader bound
    assert names == [f"{n:06d}.parquet" for n in range(len(names))]  # consecutive


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(table, "MAX_CHUNK_BYTES", SMALL_BOUND)
    return SMALL_BOUND


def test_a_checkpoint_larger_than_the_reader_bound_is_split(
    repo: Path, small_bound: int, cli: Callable[..., CliResult]
) -> None:
    run = gittrack.init(settings={"quiet": True, "checkpoint_interval": 3600})
    for step in range(20):
        run.log({"s": value(step), "h": gittrack.Histogram([step, step + 1.0])})
    run.finish()
    check_read_back(repo, run.id, 20)
    histograms = chunk_names(repo, run.id, "histograms")
    assert histograms and set(histograms) <= set(chunk_names(repo, run.id, "history"))
    result = cli("log", run.id, "-n", "2")
    assert result.exit_code == 0, result.stderr
    assert value(19)[:20] in result.stdout


def test_a_recovered_run_is_split_too(repo: Path, small_bound: int) -> None:
    run_id = killed_run(repo, steps=20, row="{'s': f'{i:04d}' + 'a' * (1_000_000 - 4)}")
    check_read_back(repo, run_id, 20)  # Api(recover=True) recovers the dead run first
    assert gittrack.Api(".").run(run_id).state == "crashed"


def test_chunks_stay_well_under_the_reader_bound(small_bound: int) -> None:
    columns = {"s": [value(s) for s in range(20)]}
    parts = table.history_chunks(list(range(20)), [0.0] * 20, [0.0] * 20, columns)
    assert len(parts) > 1
    rows = []
    for part in parts:
        read = table.read_parquet(part, what="part", max_bytes=small_bound // 4)
        rows += read.column("s").to_pylist()
    assert rows == columns["s"]
