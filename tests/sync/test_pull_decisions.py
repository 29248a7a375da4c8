"""``sync.pull``'s decisions, without a remote: which refs move, which are forced, which
live runs are left alone, which deletions are taken and why the others are kept, what is
recorded as agreed, and the report once the transaction refused some refs."""

from __future__ import annotations

import pytest

from gittrack.git.refs import RefUpdate
from gittrack.sync.compare import RefState, Standing
from gittrack.sync.pull import (
    Gone,
    Kept,
    KeptBecause,
    PullPlan,
    PullReport,
    agreed_values,
    keep_reason,
    plan_deletions,
    plan_pull,
    settle,
)
from gittrack.types import RefName
from tests.helpers.graph import RUNS, L, R, state

ALIAS = "refs/gittrack/aliases/model/best"


# standing → what happens to a run, for (force, live here): "update", "force", "live" or None
MOVES = {
    Standing.SAME: {},
    Standing.LOCAL_ONLY: {},
    Standing.AHEAD: {},
    Standing.REMOTE_ONLY: {(False, False): "update", (True, False): "update",
                           (False, True): "live", (True, True): "live"},
    Standing.BEHIND: {(False, False): "update", (True, False): "update",
                      (False, True): "live", (True, True): "live"},
    Standing.DIVERGED: {(True, False): "force", (True, True): "live"},
}


@pytest.mark.parametrize("standing", list(MOVES), ids=[s.name for s in MOVES])
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("live", [False, True], ids=["idle", "live"])
def test_plan_pull(standing: Standing, force: bool, live: bool) -> None:
    one = state(standing)
    plan = plan_pull([one], [], {"r"} if live else {"other"}, force=force)
    where = {"update": plan.updated, "force": plan.forced, "live": plan.live}
    expected = MOVES[standing].get((force, live))
    assert {name for name, found in where.items() if one in found} == (
        {expected} if expected else set())


def test_only_runs_are_live() -> None:
    """A live run's id names no artifact: an artifact of the same name still moves."""
    artifact = state(Standing.BEHIND, "refs/gittrack/artifacts/r")
    plan = plan_pull([artifact], [], {"r"}, force=False)
    assert plan.updated == (artifact,) and plan.live == ()


def test_moves_are_compare_and_swaps_on_the_compared_values() -> None:
    behind, diverged = state(Standing.BEHIND, RUNS + "a"), state(Standing.DIVERGED, RUNS + "b")
    gone = RefState(RUNS + "c", L, None, Standing.DELETED)
    plan = plan_pull([behind, diverged], [gone], set(), force=True)
    assert plan.moves() == [RefUpdate(RefName(RUNS + "a"), R, L),
                            RefUpdate(RefName(RUNS + "b"), R, L),
                            RefUpdate(RefName(RUNS + "c"), None, L)]


# (trusted, local changes, prune, live) → why kept (None: deleted here); first reason wins
KEEP = {
    "deleted": (True, False, True, False, None),
    "untrusted": (False, True, False, True, KeptBecause.UNSURE),
    "local changes": (True, True, False, True, KeptBecause.LOCAL_CHANGES),
    "no prune": (True, False, False, True, KeptBecause.NO_PRUNE),
    "live": (True, False, True, True, KeptBecause.LIVE),
}


@pytest.mark.parametrize(("trusted", "changed", "prune", "live", "why"), KEEP.values(),
                         ids=list(KEEP))
def test_keep_reason(trusted: bool, changed: bool, prune: bool, live: bool,
                     why: KeptBecause | None) -> None:
    gone = Gone(RUNS + "r", L, changed, live)
    assert keep_reason(gone, trusted=trusted, prune=prune) is why
    deleted, kept = plan_deletions([gone], trusted=trusted, prune=prune)
    if why is None:
        assert deleted == [RefState(RUNS + "r", L, None, Standing.DELETED)] and kept == []
    else:
        assert deleted == [] and kept == [Kept(RUNS + "r", L, why)]


def test_agreed_values_are_the_same_and_the_moved_not_refused() -> None:
    same = RefState(ALIAS, L, L, Standing.SAME)
    behind, diverged = state(Standing.BEHIND, RUNS + "a"), state(Standing.DIVERGED, RUNS + "b")
    refused = state(Standing.BEHIND, RUNS + "c")
    ahead = state(Standing.AHEAD, RUNS + "d")
    states = [same, behind, diverged, refused, ahead]
    plan = plan_pull(states, [], set(), force=False)
    assert agreed_values(states, plan, {RUNS + "c"}) == [(ALIAS, L), (RUNS + "a", R)]


def test_settle_leaves_out_the_refused_and_names_the_locked() -> None:
    taken, moved, locked = (state(Standing.BEHIND, RUNS + n) for n in "abc")
    gone = RefState(RUNS + "d", L, None, Standing.DELETED)
    live = state(Standing.BEHIND, RUNS + "e")
    plan = PullPlan(updated=(taken, moved, locked), live=(live,), deleted=(gone,))
    report = settle(PullReport("origin", "url", "origin", (taken, moved, locked, live)), plan,
                    {RUNS + "b", RUNS + "c", RUNS + "d"}, {RUNS + "c": "/x/c.lock"})
    assert report.updated == (taken,)
    assert report.deleted == ()
    assert report.refused == (RUNS + "b", RUNS + "d")
    assert report.locked == ((RUNS + "c", "/x/c.lock"),)
    assert report.live == (live,)
