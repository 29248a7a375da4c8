"""``Reader.history`` over runs whose chunks have overviews (``runs.overview``): a wide window
reads the overviews and answers what the rows would (extremes, last point, true count); a
zoom reads the rows of the chunks it covers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gittrack
from gittrack.runs import overview
from gittrack.ui import downsample
from gittrack.ui.data import Reader
from tests.helpers.runs import start_run

CHECKPOINTS, ROWS = 6, 2_000


@pytest.fixture
def long_run(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, np.ndarray]:
    """A run of 12,000 steps in 7 chunks: 6 of 2,000 steps with an overview of 64-row buckets
    (steps 0 to 1,998, 1,999 to 3,998, ...: a step's row is written once the next begins)
    and finish()'s of one row, without; ``loss`` a random walk with gaps (not logged, or NaN)
    and a spike; its values by step."""
    monkeypatch.setattr(overview, "BUCKET", 64)
    monkeypatch.setattr(overview, "MIN_BUCKETS", 2)
    rng = np.random.default_rng(7)
    loss = rng.standard_normal(CHECKPOINTS * ROWS).cumsum()
    loss[rng.random(loss.size) < 0.05] = np.nan
    loss[4_321] = 1e6
    run = start_run(settings={"checkpoint_interval": 3600, "quiet": True})
    for step, value in enumerate(loss.tolist()):
        row = {"acc": step * 0.5}
        if step % 11:
            row["loss"] = value
        run.log(row, step=step)
        if step % ROWS == ROWS - 1:
            run._checkpoint()
    run.finish()
    loss[::11] = np.nan
    return run.id, loss


def full_loss(run_id: str) -> pa.Table:
    return gittrack.Api(".").run(run_id).history(["loss"], format="arrow")


def test_a_wide_window_reads_overviews_and_keeps_extremes_last_and_count(
    repo: Path, long_run: tuple[str, np.ndarray]
) -> None:
    run_id, loss = long_run
    reader = Reader(str(repo))
    assert reader.run(run_id)["steps"] == loss.size  # from the overviews' facts
    body = reader.history(run_id, ["loss"], points=40)
    got = body["series"]["loss"]
    finite = np.isfinite(loss)
    assert got["count"] == int(finite.sum()) and got["sampled"]
    assert got["min"] == loss[finite].min() and got["max"] == 1e6
    assert got["last"] == loss[finite][-1] and got["x"][-1] == int(np.flatnonzero(finite)[-1])
    assert len(got["x"]) <= 40 and got["x"] == sorted(got["x"])
    assert all(loss[x] == y for x, y in zip(got["x"], got["y"], strict=True))  # real points
    chunks = reader._raw[(body["commit"], "default")]
    assert all(chunks.overview(at) is None for at in chunks.loaded)  # no chunk read whole
    # the same by relative time, and /api/runs' keys read nothing more
    timed = reader.history(run_id, ["loss"], points=40, x="_runtime")["series"]["loss"]
    assert (timed["count"], timed["max"], timed["last"]) == (got["count"], 1e6, got["last"])


def test_a_zoom_is_at_full_resolution_from_the_chunks_it_covers(
    repo: Path, long_run: tuple[str, np.ndarray]
) -> None:
    run_id, loss = long_run
    reader = Reader(str(repo))
    reader.history(run_id, ["loss"], points=40)
    body = reader.history(run_id, ["loss"], points=400, start=4_300.5, end=4_400)
    got = body["series"]["loss"]
    steps = [s for s in range(4_301, 4_401) if np.isfinite(loss[s])]
    assert got["x"] == steps and got["y"] == [loss[s] for s in steps]
    assert got["count"] == len(steps) and not got["sampled"] and got["max"] == 1e6
    chunks = reader._raw[(body["commit"], "default")]
    assert chunks.loaded == [2, 6]  # steps 3,999-5,998, and the last row (no overview)


def test_a_window_across_chunks_counts_every_point_in_it(
    repo: Path, long_run: tuple[str, np.ndarray]
) -> None:
    run_id, loss = long_run
    reader = Reader(str(repo))
    body = reader.history(run_id, ["loss"], points=20, start=1_500, end=9_999)
    got = body["series"]["loss"]
    window = loss[1_500:10_000]
    finite = window[np.isfinite(window)]
    assert got["count"] == finite.size
    assert (got["min"], got["max"], got["last"]) == (finite.min(), 1e6, finite[-1])
    assert got["x"][0] >= 1_500 and got["x"][-1] <= 9_999
    chunks = reader._raw[(body["commit"], "default")]
    assert chunks.loaded == [0, 5, 6]  # the edges whole and the last row; the rest from
    # overviews (1,999-9,998)


def test_a_metric_as_x_axis_reads_the_rows(repo: Path, long_run: tuple[str, np.ndarray]
                                           ) -> None:
    run_id, loss = long_run
    got = Reader(str(repo)).history(run_id, ["loss"], points=40, x="acc")["series"]["loss"]
    finite = np.isfinite(loss)
    assert got["count"] == int(finite.sum()) and got["max"] == 1e6
    assert full_loss(run_id).num_rows == int((np.arange(loss.size) % 11 != 0).sum())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))),
                min_size=1, max_size=600),
       st.sampled_from([4, 8, 16]), st.integers(4, 64))
def test_m4_over_an_overview_keeps_the_extremes_and_the_last_point(
    values: list[float], bucket: int, points: int
) -> None:
    y = np.array(values)
    steps = np.arange(y.size, dtype=np.int64)
    part = pa.table({"_step": steps, "y": y})
    saved = overview.MIN_BUCKETS, overview.SHARE
    try:  # an overview of any chunk, whatever its share of the rows
        overview.MIN_BUCKETS, overview.SHARE = 0, 1
        data = overview.make(part, bucket=bucket)
    finally:
        overview.MIN_BUCKETS, overview.SHARE = saved
    assert data is not None
    finite = np.isfinite(y)
    rows = overview.parse(data, what="test").read(["_step", "y"], what="test")
    ox, oy = downsample.finite_sorted(rows.column("_step").to_numpy(),
                                      rows.column("y").to_numpy(zero_copy_only=False))
    kept = oy[downsample.m4(ox, oy, points)]
    if not finite.any():
        assert kept.size == 0
        return
    assert kept.min() == y[finite].min() and kept.max() == y[finite].max()
    assert kept[-1] == y[finite][-1] and ox[-1] == steps[finite][-1]
