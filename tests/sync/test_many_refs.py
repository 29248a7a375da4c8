"""Push and pull of many runs at once: the runs' glob refspec (held-back refs excluded, git's
own fast-forward rule and leases still refusing lost updates), the batched ref writes of pull,
and interruptions between git and the ref writes."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gittrack.errors import PushRejectedError
from gittrack.git import refs, transport
from gittrack.sync import push as push_module
from gittrack.sync.compare import Standing
from gittrack.sync.pull import pull
from gittrack.sync.push import push
from tests.helpers.repos import RUNS, MakeClone, advance, fake_runs, git, refs_of


def loose_refs(clone: Path, prefix: str = "refs/gittrack") -> list[Path]:
    git_dir = clone / ".git"
    return [p for p in git_dir.glob(f"{prefix}*/**/*") if p.is_file()]


@pytest.mark.parametrize("where", ["bare_remote", "daemon_remote"])
def test_many_runs_round_trip_with_a_diverged_one_held(
        where: str, request: pytest.FixtureRequest, make_clone: MakeClone) -> None:
    url = str(request.getfixturevalue(where))
    a = make_clone("a", url)
    made = fake_runs(a, 300)
    repo_a = pygit2.Repository(str(a))
    assert len(push(repo_a, "origin").sent) == 300
    assert transport.ls_remote(repo_a, "origin") == made

    b = make_clone("b", url)
    repo_b = pygit2.Repository(str(b))
    report = pull(repo_b, "origin")
    assert len(report.updated) == 300 and {s.standing for s in report.updated} == {
        Standing.REMOTE_ONLY}
    assert refs_of(b) == made
    assert loose_refs(b) == []  # one packed-refs rewrite, not 600 loose files
    assert len(refs_of(b, "refs/gittrack-remotes/origin/")) == 300
    git(b, "fsck", "--no-dangling")
    assert pull(repo_b, "origin").updated == ()  # nothing left to do

    contested = f"{RUNS}r0000"
    theirs = advance(b, contested, "b's checkpoint")
    assert [s.ref for s in push(repo_b, "origin").sent] == [contested]
    mine = advance(a, contested, "a's checkpoint")
    moved = {f"{RUNS}r{i:04d}": advance(a, f"{RUNS}r{i:04d}", f"step {i}") for i in range(1, 41)}
    report = push(repo_a, "origin")
    assert [s.ref for s in report.held] == [contested]
    assert report.held[0].standing is Standing.DIVERGED
    assert sorted(s.ref for s in report.sent) == sorted(moved)
    there = transport.ls_remote(repo_a, "origin")
    assert there[contested] == theirs and all(there[r] == s for r, s in moved.items())

    report = push(repo_a, "origin", force=True)
    assert [s.ref for s in report.forced] == [contested]
    assert transport.ls_remote(repo_a, "origin")[contested] == mine
    report = pull(repo_b, "origin")
    assert [s.ref for s in report.diverged] == [contested]  # b's own is kept, reported
    assert refs_of(b)[contested] == theirs and len(report.updated) == 40


def test_a_remote_moved_after_the_comparison_is_refused_by_git(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch) -> None:
    a = make_clone("a", str(bare_remote))
    fake_runs(a, 3)
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    stale = transport.ls_remote(repo_a, "origin")
    b = make_clone("b", str(bare_remote))
    pull(pygit2.Repository(str(b)), "origin")
    theirs = advance(b, f"{RUNS}r0001", "b moved it")
    push(pygit2.Repository(str(b)), "origin")

    advance(a, f"{RUNS}r0001", "a moved it too")
    extra = advance(a, f"{RUNS}r0002", "a also moved this one")
    # What a saw before b pushed: r0001 looks like a fast-forward to a's glob push.
    lines = "".join(f"{sha}\t{ref}\n" for ref, sha in stale.items())
    monkeypatch.setattr(push_module.transport, "ls_remote_lines", lambda *_a, **_k: lines)
    with pytest.raises(PushRejectedError, match="r0001"):
        push(repo_a, "origin")
    there = git(bare_remote, "for-each-ref", "--format=%(refname) %(objectname)", RUNS)
    assert f"{RUNS}r0001 {theirs}" in there  # not overwritten
    assert extra not in there  # atomic: nothing else landed either


def test_interrupted_pull_and_push_leave_refs_consistent(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch) -> None:
    a = make_clone("a", str(bare_remote))
    made = fake_runs(a, 20)
    repo_a = pygit2.Repository(str(a))
    real = refs.update_refs

    def crash(*_args: object, **_kwargs: object) -> tuple[refs.RefUpdate, ...]:
        raise KeyboardInterrupt  # the process dies between git and the ref writes

    monkeypatch.setattr(refs, "update_refs", crash)
    with pytest.raises(KeyboardInterrupt):
        push(repo_a, "origin")
    assert refs_of(bare_remote) == made  # git pushed; the mirror was not written
    assert refs_of(a, "refs/gittrack-remotes/") == {}
    monkeypatch.setattr(refs, "update_refs", real)
    assert push(repo_a, "origin").up_to_date == 20  # running it again completes it
    assert len(refs_of(a, "refs/gittrack-remotes/")) == 20

    b = make_clone("b", str(bare_remote))
    repo_b = pygit2.Repository(str(b))
    monkeypatch.setattr(refs, "update_refs", crash)
    with pytest.raises(KeyboardInterrupt):
        pull(repo_b, "origin")
    assert refs_of(b) == {} and refs_of(b, "refs/gittrack-remotes/") == {}
    monkeypatch.setattr(refs, "update_refs", real)
    assert len(pull(repo_b, "origin").updated) == 20
    assert refs_of(b) == made
