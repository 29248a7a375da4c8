"""``sync.push``'s decisions, without a remote: what is sent, held or forced, what the mirror
learns, the refspecs and the leases."""

from __future__ import annotations

import pytest

from gittrack.sync.compare import RefState, Standing
from gittrack.sync.mirror import Snapshot
from gittrack.sync.push import decide, leases, refspecs, to_learn
from gittrack.types import CommitId
from tests.helpers.graph import RUNS, L, R, state

ARTIFACT = "refs/gittrack/artifacts/model"
ALIAS = "refs/gittrack/aliases/model/best"


# standing → (without force: sent, held), (with force: sent, forced)
DECISIONS = {
    Standing.SAME: ((False, False), (False, False)),
    Standing.LOCAL_ONLY: ((True, False), (True, False)),
    Standing.AHEAD: ((True, False), (True, False)),
    Standing.REMOTE_ONLY: ((False, False), (False, False)),
    Standing.BEHIND: ((False, True), (True, True)),
    Standing.DIVERGED: ((False, True), (True, True)),
    Standing.DELETED: ((False, True), (True, True)),
}


@pytest.mark.parametrize("standing", list(DECISIONS), ids=[s.name for s in DECISIONS])
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_decide(standing: Standing, force: bool) -> None:
    one = state(standing)
    sent, other = DECISIONS[standing][force]
    decision = decide([one], force=force)
    assert (one in decision.send) is sent
    if force:
        assert (one in decision.forced) is other and decision.held == ()
    else:
        assert (one in decision.held) is other and decision.forced == ()
    assert (one in decision.same) is (standing is Standing.SAME)


def test_decide_keeps_the_order_of_the_states() -> None:
    states = [state(Standing.AHEAD, RUNS + "b"), state(Standing.DIVERGED, RUNS + "c"),
              state(Standing.LOCAL_ONLY, RUNS + "a")]
    assert [s.ref for s in decide(states, force=True).send] == [RUNS + "b", RUNS + "c",
                                                                 RUNS + "a"]


# ref, mirrored value, agreed value → whether the mirror learns a ref equal on both sides
LEARN = {
    "mirrored already": (RUNS + "r", L, None, False),
    "not mirrored": (RUNS + "r", None, None, True),
    "mirrored at another value": (RUNS + "r", R, None, True),
    "alias mirrored and agreed": (ALIAS, L, L, False),
    "alias mirrored, not agreed": (ALIAS, L, None, True),
    "alias agreed elsewhere": (ALIAS, L, R, True),
}


@pytest.mark.parametrize(("ref", "mirrored", "agreed", "learns"), LEARN.values(),
                         ids=list(LEARN))
def test_to_learn(ref: str, mirrored: CommitId | None, agreed: CommitId | None,
                  learns: bool) -> None:
    same = RefState(ref, L, L, Standing.SAME)
    before = Snapshot({ref: L}, {ref: mirrored} if mirrored else {},
                      {ref: agreed} if agreed else {})
    assert (to_learn([same], before) == [same]) is learns


def test_refspecs_send_every_run_by_one_glob_minus_those_held() -> None:
    send = [state(Standing.AHEAD, RUNS + "a"), state(Standing.LOCAL_ONLY, RUNS + "b"),
            state(Standing.AHEAD, ARTIFACT)]
    held = [state(Standing.DIVERGED, RUNS + "c"), state(Standing.BEHIND, ALIAS)]
    assert refspecs(send, held, everything=True) == [
        f"{RUNS}*:{RUNS}*", f"^{RUNS}c", f"{L}:{ARTIFACT}"]


def test_refspecs_name_each_ref_for_chosen_runs_and_forced_ones() -> None:
    send = [state(Standing.AHEAD, RUNS + "a"), state(Standing.DIVERGED, RUNS + "c")]
    assert refspecs(send, [], everything=False) == [f"{L}:{RUNS}a", f"{L}:{RUNS}c"]
    # everything chosen: the glob takes the fast-forward, the forced run goes by its commit
    assert refspecs(send, [], everything=True) == [f"{RUNS}*:{RUNS}*", f"{L}:{RUNS}c"]
    # no run to send by glob: no glob (it would send nothing but cost a match)
    assert refspecs([state(Standing.AHEAD, ARTIFACT)], [state(Standing.DIVERGED)],
                    everything=True) == [f"{L}:{ARTIFACT}"]


@pytest.mark.parametrize(("one", "leased"), [
    (state(Standing.AHEAD), False),
    (state(Standing.LOCAL_ONLY), False),
    (state(Standing.AHEAD, ALIAS), True),
    (state(Standing.DIVERGED), True),
    (state(Standing.BEHIND, ARTIFACT), True),
    (state(Standing.DELETED), True),
], ids=["run ahead", "new run", "alias", "forced diverged", "forced behind", "sent back"])
def test_leases(one: RefState, leased: bool) -> None:
    assert leases([one]) == ({one.ref: one.remote} if leased else {})
