"""Long runs (issue 10): a checkpoint writes a bounded number of tree entries, chunks are merged
as the run goes, and runs of the v1 layout are still read and resumed."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gittrack
from gittrack.errors import FormatError
from gittrack.formats import table
from gittrack.runs import checkpoint as checkpointer
from gittrack.runs import compaction, layout, overview
from gittrack.runs.compaction import Chunk, Tiers
from tests.helpers.forge_runs import as_v1, forge_run
from tests.helpers.repos import git
from tests.helpers.runs import start_run
from tests.helpers.trees import new_tree_entries

F = compaction.MERGE_FACTOR
BIG_INTERVAL = {"checkpoint_interval": 3600, "quiet": True}


def entry_bound(levels: int) -> int:
    """The most tree entries a checkpoint writes into a run whose chunks reach ``levels``
    merges: the root's files, and per folder (history, histograms) the folder's entries
    (the levels and final/), every level folder a merge cascade touches (less than F
    chunks each, and the merged one)."""
    return 6 + 2 * ((levels + 2) + (levels + 1) * F)


def overview_bound(levels: int) -> int:
    """The most tree entries a checkpoint writes for the overviews of ``history/``: the root's
    entry ``overview``, the folder ``overview/`` (history, system), ``overview/history/`` (the
    levels and final/) and every level folder a merge cascade touches."""
    return 1 + 2 + (levels + 2) + (levels + 1) * F


def chunk_paths(repo: Path, run_id: str, folder: str = layout.HISTORY_DIR) -> list[str]:
    """The chunk files of ``folder``, in row order."""
    out = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run_id}", f"{folder}/")
    return sorted(out.split(), key=lambda p: layout.chunk_range(p.split("/")[-1]) or (-1, -1))


def histogram(step: int) -> gittrack.Histogram:
    return gittrack.Histogram([float(step), step + 1.0, step + 2.0], num_bins=2)


def logged_run(checkpoints: int, *, every: int = 1, **init: Any) -> tuple[gittrack.Run,
                                                                          list[int]]:
    """A run checkpointed after every step; a histogram at every ``every``-th step. The
    number of tree entries each checkpoint wrote."""
    run = start_run(settings=BIG_INTERVAL, **init)
    written = []
    for step in range(checkpoints):
        row: dict[str, Any] = {"x": step * 0.5, f"k{step % 3}": step}
        if step % every == 0:
            row["h"] = histogram(step)
        run.log(row, step=step)
        run._checkpoint()
        written.append(new_tree_entries(Path("."), run.commit))
    run.finish()
    return run, written


def check_history(run_id: str, steps: int, *, every: int = 1) -> None:
    view = gittrack.Api(".").run(run_id)
    rows = view.history(format="arrow").to_pylist()
    assert [r["_step"] for r in rows] == list(range(steps))
    assert [r["x"] for r in rows] == [s * 0.5 for s in range(steps)]
    assert [r["k1"] for r in rows] == [s if s % 3 == 1 else None for s in range(steps)]
    hist = view.histograms("h", format="arrow")
    assert hist.column("_step").to_pylist() == list(range(0, steps, every))
    assert hist.column("edges").to_pylist() == [
        histogram(s).edges for s in range(0, steps, every)]


def test_a_checkpoint_writes_a_bounded_number_of_tree_entries(repo: Path, no_fsync: None
                                                               ) -> None:
    run, written = logged_run(F * F + 5)
    assert max(written) <= entry_bound(2)  # not the whole run's chunks
    assert max(written[-F:]) <= max(written[:2 * F])
    # what the checkpoint thread keeps between commits: the plan, not the checkpoints
    for folder in run._checkpointer.folders.values():
        assert len(folder.tiers) <= 3 * (F - 1) and not folder.flat
    check_history(run.id, F * F + 5)
    assert len(chunk_paths(repo, run.id)) <= 3 * (F - 1)
    assert any("/2/" in p for p in chunk_paths(repo, run.id))  # merged twice


def test_with_overviews_a_checkpoint_still_writes_a_bounded_number_of_entries(
    repo: Path, no_fsync: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # buckets of 4 rows, an overview from 8 rows and of any size: every chunk gets one, so
    # every merge writes overviews too
    monkeypatch.setattr(overview, "BUCKET", 4)
    monkeypatch.setattr(overview, "MIN_BUCKETS", 2)
    monkeypatch.setattr(overview, "SHARE", 1)
    run = start_run(settings=BIG_INTERVAL)
    written, checkpoints = [], F * F + 5
    for c in range(checkpoints):
        for i in range(16):
            step = c * 16 + i
            run.log({"x": 1.0} if step % 8 else {"x": 1.0, "y": float(step % 5)}, step=step)
        run._checkpoint()
        written.append(new_tree_entries(Path("."), run.commit))
    run.finish()
    assert max(written) <= entry_bound(2) + overview_bound(2)
    assert max(written[-F:]) <= max(written[:2 * F])
    paths = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run.id}",
                f"{layout.OVERVIEW_DIR}/").split()
    chunks = chunk_paths(repo, run.id)
    # every chunk has its overview but finish()'s, of one row (the last step's)
    assert sorted(p.removeprefix(f"{layout.OVERVIEW_DIR}/") for p in paths) == \
        sorted(chunks[:-1])
    assert any("/2/" in p for p in paths)  # merged twice, with its overview
    steps = gittrack.Api(".").run(run.id).history(format="arrow").column("_step")
    assert steps.to_pylist() == list(range(checkpoints * 16))


@pytest.mark.slow
def test_a_run_of_5000_checkpoints_holds_a_few_dozen_chunks(repo: Path, no_fsync: None
                                                             ) -> None:
    run, written = logged_run(5000, every=7)
    assert len(chunk_paths(repo, run.id)) <= 40
    assert len(chunk_paths(repo, run.id, layout.HISTOGRAMS_DIR)) <= 40
    assert max(written) <= entry_bound(3)
    assert gittrack.Api(".").runs()[0].id == run.id
    check_history(run.id, 5000, every=7)


def test_merged_chunks_share_numbers_with_the_checkpoints_they_hold(repo: Path) -> None:
    run, _ = logged_run(F + 3, every=2)
    history = chunk_paths(repo, run.id)
    assert f"history/1/000000-{F - 1:06d}.parquet" in history
    assert [p.split("/")[1] for p in history] == ["1"] + ["0"] * 3
    histograms = chunk_paths(repo, run.id, layout.HISTOGRAMS_DIR)
    assert histograms[-1] == f"histograms/0/{F + 2:06d}.parquet"
    check_history(run.id, F + 3, every=2)


def test_chunks_near_the_write_bound_are_final_and_keep_their_order(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a write bound of 64 KB: a chunk of 4 KB or more (1/F of it) is never merged again
    monkeypatch.setattr(table, "MAX_CHUNK_BYTES", 4 * 64 * 1024)
    run = start_run(settings=BIG_INTERVAL)
    sizes = [1, 1, 1, 600, 1, 1, 2, *([1] * 40), 900, *([1] * 20)]
    expected = []
    for count in sizes:
        for _ in range(count):
            step = len(expected)
            run.log({"x": float(step)}, step=step)
            expected.append(step)
        run._checkpoint()
    run.finish()
    paths = chunk_paths(repo, run.id)
    assert any(p.startswith("history/final/") for p in paths)
    assert any(p.startswith("history/1/") for p in paths)
    view = gittrack.Api(".").run(run.id)
    assert view.history(format="arrow").column("_step").to_pylist() == expected


def test_a_v1_run_is_read_and_resumed(repo: Path) -> None:
    run, _ = logged_run(5, every=2, id="old-1")
    as_v1(repo, run.id)
    assert [p.count("/") for p in chunk_paths(repo, run.id)] == [1] * 5  # flat, as v1 wrote
    assert git(repo, "show", f"refs/gittrack/runs/{run.id}:run.yaml").startswith("format: 1")
    check_history(run.id, 5, every=2)
    again = start_run(id="old-1", resume="must", settings=BIG_INTERVAL)
    for step in range(5, F + 8):
        again.log({"x": step * 0.5, f"k{step % 3}": step,
                   **({"h": histogram(step)} if step % 2 == 0 else {})}, step=step)
        again._checkpoint()
    again.finish()
    paths = chunk_paths(repo, run.id)
    assert paths[:5] == [f"history/final/{n:06d}.parquet" for n in range(5)]  # moved as is
    assert not [p for p in paths if p.count("/") == 1]
    assert any(p.startswith("history/1/") for p in paths)
    assert git(repo, "show", f"refs/gittrack/runs/{run.id}:run.yaml").startswith("format: 2")
    check_history(run.id, F + 8, every=2)


def test_a_run_of_a_later_format_is_refused(repo: Path) -> None:
    forge_run(repo, "future", {"run.yaml": b"format: 3\nid: future\nname: f\nstate: finished\n",
                               "history/9/x.parquet": b"?"})
    view = gittrack.Api(".").run("future")
    for read in (lambda: view.state, view.history, view.histograms):
        with pytest.raises(FormatError, match="uses format 3; this gittrack reads format 2"):
            read()


# -- the plan, on its own ------------------------------------------------------------------------
LIMIT = 1000  # the write bound of the simulation: a chunk of LIMIT // factor or more is final


Simulation = tuple[list[tuple[Chunk, list[int]]], dict[int, int], int, int]


def simulate(sizes: list[list[int]], factor: int, limit: int = LIMIT) -> Simulation:
    """Drive ``Tiers`` as the checkpoint thread does, with rows as numbers and a size each:
    the chunks at the end (with their rows), how often each row was rewritten, the most
    mergeable chunks held after a checkpoint, and how many chunks were final by their size."""
    tiers = Tiers(factor)
    rows: dict[Chunk, list[int]] = {}
    size: dict[int, int] = {}
    rewrites: dict[int, int] = {}
    most = large = 0

    def final(chunk_rows: list[int]) -> bool:
        nonlocal large
        is_large = sum(size[r] for r in chunk_rows) >= limit // factor
        large += is_large
        return is_large

    def finalize(closed: list[Chunk]) -> None:
        for chunk in closed:
            rows[chunk.moved(layout.FINAL)] = rows.pop(chunk)

    for number, checkpoint in enumerate(sizes):
        if not checkpoint:
            continue
        new = []
        for weight in checkpoint:
            size[len(size)] = weight
            new.append(len(size) - 1)
            rewrites[new[-1]] = 0
        chunk, closed = tiers.placed(number, number, final(new))
        finalize(closed)
        rows[chunk] = new
        while (inputs := tiers.next_merge()) is not None:
            merged = [r for c in inputs for r in rows.pop(c)]
            for r in merged:
                rewrites[r] += 1
            chunk, closed = tiers.merged(inputs, final(merged))
            finalize(closed)
            rows[chunk] = merged
        most = max(most, len(tiers))
    return sorted(rows.items(), key=lambda item: item[0].first), rewrites, most, large


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 6),
       st.lists(st.lists(st.one_of(st.integers(1, 3), st.integers(1, 400)), max_size=4),
                max_size=300))
def test_the_plan_keeps_rows_in_order_and_bounds_chunks_and_rewrites(
    factor: int, sizes: list[list[int]]
) -> None:
    chunks, rewrites, most, large = simulate(sizes, factor)
    assert [r for _, rows in chunks for r in rows] == list(range(len(rewrites)))
    numbers = [(c.first, c.last) for c, _ in chunks]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(numbers))  # disjoint
    levels = math.ceil(math.log(max(len(sizes), 2), factor))  # L: merges a row can go through
    assert all(count <= levels for count in rewrites.values())
    assert most <= (factor - 1) * (levels + 1)
    # a final chunk is large (1/F of the bound: their number grows with the data, not the
    # checkpoints), or was closed by a large one, which closes what the plan held
    total = sum(w for checkpoint in sizes for w in checkpoint)
    assert large <= total // (LIMIT // factor)
    finals = [c for c, _ in chunks if c.folder == layout.FINAL]
    assert len(finals) <= large * (1 + most)
    assert len(chunks) - len(finals) <= most


def test_a_long_run_plan_stays_small() -> None:
    chunks, rewrites, most, _ = simulate([[1]] * 8640, F, limit=10**9)
    assert len(chunks) <= 40 and most <= 4 * (F - 1)
    assert max(rewrites.values()) == 3


def test_a_checkpointer_that_drops_its_caches_every_commit_writes_the_same_run(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays flat over a long run because the checkpointer drops its handle's object
    cache every ``DROP_CACHES_EVERY`` commits and gives back what a merge used: at every
    commit, through merges and histograms, the run reads back as logged."""
    monkeypatch.setattr(checkpointer, "DROP_CACHES_EVERY", 1)
    released = []
    monkeypatch.setattr(table, "release_memory", lambda: released.append(1))
    run, _ = logged_run(2 * F + 5, every=3)
    assert len(released) >= 2  # after each commit that merged (at F and 2F checkpoints)
    check_history(run.id, 2 * F + 5, every=3)


def test_release_memory_gives_memory_back() -> None:
    table.release_memory()  # glibc's malloc_trim where there is one: never raises
    assert table._malloc_trim() is None or callable(table._malloc_trim())
