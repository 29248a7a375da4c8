"""Overviews of large history chunks (``gittrack.runs.overview``): what they keep, when they
are written, and that compaction keeps them beside their chunks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import gittrack
from gittrack.errors import FormatError
from gittrack.formats import table
from gittrack.runs import compaction, layout, overview
from tests.helpers.repos import git
from tests.helpers.runs import start_run

BIG_INTERVAL = {"checkpoint_interval": 3600, "quiet": True}


def history_part(rows: int, seed: int = 0, **more: Any) -> pa.Table:
    rng = np.random.default_rng(seed)
    steps = np.arange(rows, dtype=np.int64)
    loss = rng.standard_normal(rows).cumsum()
    loss[rng.random(rows) < 0.05] = np.nan
    columns = {"loss": pa.array(loss, mask=rng.random(rows) < 0.05), **more}
    return pa.table({"_step": steps, "_timestamp": steps * 0.01, "_runtime": steps * 0.01,
                     **columns})


def test_an_overview_keeps_each_buckets_first_last_min_and_max() -> None:
    part = history_part(64 * 40, seed=3)
    data = overview.make(part, bucket=64)
    assert data is not None
    found = overview.parse(data, what="test")
    assert (found.rows, found.bucket) == (part.num_rows, 64)
    loss = part.column("loss").to_numpy(zero_copy_only=False)
    finite = np.isfinite(loss)
    assert found.counts["loss"] == int(finite.sum())
    assert found.counts["_step"] == part.num_rows
    rows = found.read(["_step", "loss"], what="test")
    kept = set(rows.column("_step").to_pylist())
    assert rows.column_names == ["_step", "loss"] and rows.num_rows <= part.num_rows // 8
    for start in range(0, part.num_rows, 64):
        index = np.arange(start, start + 64)[finite[start:start + 64]]
        values = loss[index]
        for must in (index[0], index[-1], index[values.argmin()], index[values.argmax()]):
            assert int(must) in kept
    # a row subset: every kept row is the chunk's row, whole
    chunk = {r["_step"]: r for r in part.to_pylist()}
    for row in found.read(part.column_names, what="test").to_pylist():
        expected = chunk[row["_step"]]
        assert row.keys() == expected.keys()
        assert all(row[k] == expected[k] or (row[k] != row[k] and expected[k] != expected[k])
                   for k in row)


def test_no_overview_for_small_or_wide_chunks() -> None:
    assert overview.make(history_part(64 * overview.MIN_BUCKETS - 1), bucket=64) is None
    assert overview.make(history_part(64 * overview.MIN_BUCKETS), bucket=64) is not None
    rng = np.random.default_rng(1)
    rows = 64 * 20
    wide = {f"k{i}": pa.array(rng.standard_normal(rows)) for i in range(40)}
    assert overview.make(history_part(rows, **wide), bucket=64) is None  # > 1/8 of the rows
    nothing = history_part(rows, note=pa.array(["x"] * rows))  # text is not drawn: skipped
    assert overview.make(nothing, bucket=64) is not None


def test_an_overview_is_refused_without_its_facts() -> None:
    plain = table.encode(history_part(100))
    with pytest.raises(FormatError, match="not an overview"):
        overview.parse(plain, what="overview/history/0/000001.parquet")
    forged = table.encode(history_part(100), metadata={overview.KEY: json.dumps(
        {"rows": 10, "bucket": 64, "counts": {"loss": 11}})})
    with pytest.raises(FormatError, match="000001"):
        overview.parse(forged, what="overview/history/0/000001.parquet")
    deep = table.encode(history_part(100), metadata={overview.KEY: "[" * 100_000})
    with pytest.raises(FormatError, match="not an overview"):
        overview.parse(deep, what="overview/history/0/000001.parquet")


def tree(repo: Path, run_id: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run_id}").split()


def check_consistent(repo: Path, run_id: str) -> list[str]:
    """Every overview has its chunk (the same folder and name); the overviews."""
    paths = tree(repo, run_id)
    overviews = [p for p in paths if p.startswith(f"{layout.OVERVIEW_DIR}/")]
    for path in overviews:
        assert path.removeprefix(f"{layout.OVERVIEW_DIR}/") in paths
    return overviews


def log_checkpoints(run: gittrack.Run, sizes: list[int], start: int = 0) -> int:
    step = start
    for size in sizes:
        for _ in range(size):
            run.log({"loss": float(np.sin(step / 7.0)), "acc": step * 0.5}, step=step)
            step += 1
        run._checkpoint()
    return step


@pytest.fixture
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buckets of 64 rows, an overview from 128 rows: real runs of a test's size get them."""
    monkeypatch.setattr(overview, "BUCKET", 64)
    monkeypatch.setattr(overview, "MIN_BUCKETS", 2)


def test_compaction_keeps_overviews_beside_their_chunks(repo: Path, small_buckets: None
                                                        ) -> None:
    run = start_run(settings=BIG_INTERVAL)
    steps = log_checkpoints(run, [200, 10, 200, 10, 200])
    overviews = check_consistent(repo, run.id)
    assert sorted(overviews) == [f"overview/history/0/{n:06d}.parquet" for n in (0, 2, 4)]
    # 16 chunks of level 0 merge into one of level 1: their overviews go with them
    steps = log_checkpoints(run, [200] * (compaction.MERGE_FACTOR - 5), steps)
    overviews = check_consistent(repo, run.id)
    merged = f"overview/history/1/000000-{compaction.MERGE_FACTOR - 1:06d}.parquet"
    assert merged in overviews and not any("/history/0/" in p for p in overviews)
    run.finish()
    view = gittrack.Api(".").run(run.id)
    rows = view.history(format="arrow")  # overviews are never read as rows
    assert rows.column("_step").to_pylist() == list(range(steps))
    assert view.history_fields()[1] == steps
    # what docs/format.md's plain-git reader lists: chunks only
    listed = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run.id}",
                 "history/").split()
    assert listed and all(layout.chunk_range(p.rsplit("/", 1)[1]) for p in listed)


def test_a_final_chunk_moves_with_its_overview(repo: Path, small_buckets: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # a write bound of 1 MB: a chunk of 64 KB decoded (1,600 rows of 5 columns) or more is
    # final, and closes the mergeable chunks before it (moved to final/ with their overviews)
    monkeypatch.setattr(table, "MAX_CHUNK_BYTES", 4 * 1024 * 1024)
    run = start_run(settings=BIG_INTERVAL)
    steps = log_checkpoints(run, [200, 5, 300, 2000, 5])
    run.finish()
    overviews = check_consistent(repo, run.id)
    assert sorted(overviews) == [  # 0 and 2 moved with their chunks; 3 final when written
        f"overview/history/final/{n:06d}.parquet" for n in (0, 2, 3)]
    assert "history/final/000001.parquet" in tree(repo, run.id)  # small: none
    rows = gittrack.Api(".").run(run.id).history(format="arrow")
    assert rows.column("_step").to_pylist() == list(range(steps))


def test_histogram_chunks_get_no_overview(repo: Path, small_buckets: None
                                                         ) -> None:
    run = start_run(settings=BIG_INTERVAL)
    for step in range(200):
        run.log({"loss": float(step), "h": gittrack.Histogram([1.0, 2.0], num_bins=2)},
                step=step)
    run._checkpoint()
    run.finish()
    overviews = check_consistent(repo, run.id)
    assert "overview/history/0/000000.parquet" in overviews
    assert not any(p.startswith("overview/histograms/") for p in overviews)


def test_writing_overviews_imports_no_pandas(repo: Path) -> None:
    """The checkpoint thread of a training script makes overviews without pandas (46 MB and
    0.2 s in a process that never asked for it)."""
    code = ("import sys, gittrack\n"
            "run = gittrack.init(settings={'quiet': True, 'checkpoint_interval': 3600})\n"
            "for i in range(5000):\n"
            "    run.log({'loss': 1.0 / (i + 1), 'acc': None if i % 3 else 0.5}, step=i)\n"
            "run.finish()\n"
            "print('pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False"
    assert "overview/history/0/000000.parquet" in tree(repo, gittrack.Api(".").runs()[0].id)
