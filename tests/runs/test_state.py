"""The record state machine: W&B step semantics, snapshots, and replay after a restore."""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gittrack.formats import yamlio
from gittrack.formats.histogram import Histogram
from gittrack.runs.state import LiveState
from gittrack.runs.summary import MetricSpec


def rows(state: LiveState) -> list[tuple[int, dict[str, Any]]]:
    """The committed rows of the buffer as (step, {key: value}) without the padding Nones."""
    return list(zip(state.buffer.steps(), state.buffer.values(), strict=True))


def logged(*calls: tuple[int | None, bool | None, dict[str, Any]]) -> LiveState:
    state = LiveState(start_time=100.0)
    for n, (step, commit, data) in enumerate(calls):
        state.apply(("log", n + 1, 100.0 + n, step, commit, dict(data)))
    return state


def test_each_call_without_step_is_one_step() -> None:
    state = logged((None, None, {"a": 1}), (None, None, {"a": 2}), (None, None, {"b": 3}))
    assert rows(state) == [(0, {"a": 1}), (1, {"a": 2}), (2, {"b": 3})]
    assert state.step == 3


def test_commit_false_accumulates_into_the_open_step() -> None:
    state = logged((None, False, {"a": 1}), (None, False, {"b": 2}), (None, None, {"c": 3}),
                   (None, None, {"a": 4}))
    assert rows(state) == [(0, {"a": 1, "b": 2, "c": 3}), (1, {"a": 4})]


def test_commit_false_later_value_wins() -> None:
    state = logged((None, False, {"a": 1}), (None, True, {"a": 2}))
    assert rows(state) == [(0, {"a": 2})]


def test_explicit_step_stays_open_until_a_higher_step() -> None:
    state = logged((5, None, {"a": 1}), (5, None, {"b": 2}))
    assert rows(state) == []  # still open: more keys may come at step 5
    assert state.pending == {"a": 1, "b": 2}
    state.apply(("log", 3, 200.0, 7, None, {"a": 3}))
    assert rows(state) == [(5, {"a": 1, "b": 2})]
    state.flush(advance=False)
    assert rows(state)[-1] == (7, {"a": 3})


def test_explicit_step_with_commit_true_closes_it() -> None:
    state = logged((3, True, {"a": 1}))
    assert rows(state) == [(3, {"a": 1})]
    assert state.step == 4


def test_call_without_step_after_explicit_step_joins_it() -> None:
    state = logged((10, None, {"a": 1}), (None, None, {"b": 2}), (None, None, {"c": 3}))
    assert rows(state) == [(10, {"a": 1, "b": 2}), (11, {"c": 3})]


def test_skipped_steps_leave_gaps() -> None:
    state = logged((None, None, {"a": 0}), (10, True, {"a": 10}), (None, None, {"a": 11}))
    assert [s for s, _ in rows(state)] == [0, 10, 11]


def test_out_of_order_rows_are_kept_in_arrival_order() -> None:
    state = logged((None, None, {"a": 0}), (None, None, {"a": 1}), (None, None, {"a": 2}),
                   (0, None, {"b": 9}), (1, None, {"b": 8}), (None, None, {"a": 3}))
    assert rows(state) == [(0, {"a": 0}), (1, {"a": 1}), (2, {"a": 2}), (0, {"b": 9}),
                           (1, {"b": 8}), (3, {"a": 3})]
    assert state.out_of_order == 2
    assert state.summary.values == {"a": 3, "b": 8}


def test_out_of_order_does_not_disturb_the_open_step() -> None:
    state = logged((5, None, {"a": 1}), (2, None, {"b": 2}), (5, None, {"c": 3}))
    state.flush(advance=False)
    assert rows(state) == [(2, {"b": 2}), (5, {"a": 1, "c": 3})]


def test_histograms_go_to_their_own_rows() -> None:
    hist = Histogram.from_bins([1.0], [0.0, 1.0])
    state = logged((None, None, {"h": hist, "a": 1}), (None, None, {"h": hist}))
    assert rows(state) == [(0, {"a": 1})]
    assert [(k, s, e, c) for k, s, _, e, c in state.histograms] == [
        ("h", 0, [0.0, 1.0], [1.0]), ("h", 1, [0.0, 1.0], [1.0])]
    assert state.summary.values["h"] == hist.to_dict()


def test_rows_keep_their_times_and_the_snapshot_its_start() -> None:
    state = logged((None, None, {"a": 1}), (None, None, {"b": 2}))
    snap = state.snapshot()
    assert snap.history.timestamps() == [100.0, 101.0]
    assert snap.start_time == 100.0
    assert snap.history.steps() == [0, 1]
    assert snap.history.columns() == {"a": [1, None], "b": [None, 2]}


def test_snapshot_takes_rows_and_final_commits_the_open_step() -> None:
    state = logged((None, None, {"a": 1}), (4, None, {"a": 2}))
    snap = state.snapshot()
    assert snap.history.steps() == [0]
    assert state.buffer.rows == 0 and state.pending == {"a": 2}
    final = state.snapshot(final=True)
    assert final.history.steps() == [4]
    assert final.resume["next_step"] == 5


def test_apply_records() -> None:
    state = LiveState(start_time=0.0)
    for record in [
        ("log", 1, 1.0, None, None, {"x": 1.0}),
        ("config", 2, {"lr": 0.1, "bs": 32}),
        ("config_del", 3, ["bs"]),
        ("summary", 4, {"best": 0.9, "tmp": 1}),
        ("summary_del", 5, ["tmp"]),
        ("define", 6, "loss", {"summary": ["min"]}),
        ("log", 7, 2.0, None, None, {"loss": 3.0}),
        ("log", 8, 3.0, None, None, {"loss": 1.0}),
        ("meta", 9, {"name": "renamed"}),
    ]:
        state.apply(record)
    assert state.seq == 9
    assert state.config == {"lr": 0.1}
    assert state.summary.values == {"x": 1.0, "best": 0.9, "loss": {"min": 1.0}}
    assert state.meta == {"name": "renamed"}
    assert state.kinds == {"x": "num", "loss": "num"}


call = st.tuples(
    st.none() | st.integers(0, 20),
    st.none() | st.booleans(),
    st.dictionaries(st.sampled_from(["a", "b", "c"]),
                    st.floats(allow_nan=True) | st.integers(-5, 5), min_size=1, max_size=3),
)


def same_rows(x: list[tuple[int, dict[str, Any]]], y: list[tuple[int, dict[str, Any]]]) -> bool:
    return repr(x) == repr(y)  # NaN-aware: nan reprs equal


@settings(max_examples=50)
@given(st.lists(call, max_size=12), st.lists(call, max_size=12))
def test_restore_then_replay_equals_never_stopping(
    first: list[tuple[Any, ...]], second: list[tuple[Any, ...]]
) -> None:
    """A checkpoint's resume.yaml plus the rest of the WAL rebuilds the same rows."""
    spec = MetricSpec.build("a", None, "min,max,mean,first,last", None, False)
    straight = LiveState(start_time=0.0)
    straight.summary.define(spec)
    records = [("log", i + 1, float(i), s, c, d) for i, (s, c, d) in enumerate(first + second)]
    for r in records:  # a record's dict becomes the state's own: give each state its copies
        straight.apply(copy.deepcopy(r))
    straight_rows = rows(straight)

    resumed = LiveState(start_time=0.0)
    resumed.summary.define(spec)
    for r in records[: len(first)]:
        resumed.apply(copy.deepcopy(r))
    snap = resumed.snapshot()
    stored = yamlio.load(yamlio.dump(snap.resume))  # as resume.yaml holds it
    restored = LiveState.restore(0.0, stored, snap.config, yamlio.load(yamlio.dump(snap.summary)),
                                snap.metrics, {})
    for r in records[len(first):]:
        restored.apply(copy.deepcopy(r))
    before = list(zip(snap.history.steps(), snap.history.values(), strict=True))
    assert same_rows(before + rows(restored), straight_rows)
    assert repr(restored.summary.values) == repr(straight.summary.values)
    assert restored.step == straight.step
    assert repr(restored.pending) == repr(straight.pending)


def test_nan_is_left_out_of_min_max_mean() -> None:
    state = LiveState(start_time=0.0)
    state.summary.define(MetricSpec.build("a", None, "min,max,mean", None, False))
    for value in (2.0, math.nan, 4.0):
        state.log(0.0, None, None, {"a": value})
    assert state.summary.values["a"] == {"min": 2.0, "max": 4.0, "mean": 3.0}


@settings(max_examples=100)
@given(st.lists(call, max_size=16), st.booleans())
def test_the_inlined_common_cases_equal_the_general_path(
    calls: list[tuple[Any, ...]], defined: bool
) -> None:
    """``log()`` inlines one call per step and ``step=`` ahead of the open step; a state told
    every call may hold a histogram takes the general path for all of them: the same rows,
    summary, open step and counts."""
    fast, general = LiveState(start_time=0.0), LiveState(start_time=0.0)
    if defined:
        for state in (fast, general):
            state.summary.define(MetricSpec.build("a", None, "min,max", None, False))
    for i, (step, commit, data) in enumerate(calls):
        if step is not None and step < fast.step:
            step = fast.step + step  # out of order goes the general way in both: keep it ahead
        fast.log(float(i), step, commit, dict(data))
        general.log(float(i), step, commit, dict(data), has_histogram=True)
    assert same_rows(rows(fast), rows(general))
    assert fast.buffer.timestamps() == general.buffer.timestamps()
    assert repr(fast.summary.values) == repr(general.summary.values)
    assert (fast.step, repr(fast.pending), fast.out_of_order) == (
        general.step, repr(general.pending), general.out_of_order)
    if fast.pending:  # the time of the open step (none open: nothing reads it)
        assert fast.pending_time == general.pending_time
