"""A pull never moves the ref of a run being written here, and says so; a ref it cannot move
because of a lock file names the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2
import pytest

import gittrack
from gittrack.cli.sync_render import pull_lines
from gittrack.sync.mirror import to_mirror
from gittrack.sync.pull import pull
from gittrack.sync.push import push
from tests.helpers.repos import RUNS, MakeClone, advance, git, refs_of
from tests.helpers.runs import marked_run

SLOW_CHECKPOINTS = {"quiet": True, "checkpoint_interval": 3600}  # only those the test asks for


def test_pull_leaves_a_live_run_alone_even_with_force(bare_remote: Path,
                                                      make_clone: MakeClone) -> None:
    """The run is live in this process (its write-ahead log is held); the remote has a newer
    version of it (another commit on top: BEHIND here), then a diverged one. Neither a plain
    pull nor `--force` moves the ref, so the run's checkpoints — compare-and-swaps on the head
    it wrote — keep landing, and its finish too; once finished, a pull takes the remote's."""
    a = make_clone("a", str(bare_remote))
    repo_a = pygit2.Repository(str(a))
    run = gittrack.init(repo=str(a), settings=dict(SLOW_CHECKPOINTS))
    ref = f"{RUNS}{run.id}"
    try:
        run.log({"loss": 1.0})
        run._checkpoint()
        git(a, "push", "-q", "origin", f"{ref}:{ref}")
        theirs = advance(bare_remote, ref, "a teammate's commit on the run")

        report = pull(repo_a, "origin")  # the remote is ahead: a fast-forward, but live
        assert [s.ref for s in report.live] == [ref] and report.updated == ()
        assert refs_of(a)[ref] == run.commit
        assert refs_of(a, "refs/")[to_mirror(report.key, ref)] == theirs  # the remote's is kept
        text = "\n".join(pull_lines(report))
        assert f"run {run.id} is being written here" in text and "updated 1" not in text

        run.log({"loss": 0.5})
        run._checkpoint()  # lands: the ref is where the run left it; now it diverged
        report = pull(repo_a, "origin", force=True)
        assert report.forced == () and report.diverged == []
        assert [s.ref for s in report.live] == [ref]
        assert refs_of(a)[ref] == run.commit
        run.log({"loss": 0.25})
    finally:
        run.finish()  # its final checkpoint's compare-and-swap passes
    assert run.state == "finished" and refs_of(a)[ref] == run.commit

    report = pull(repo_a, "origin", force=True)  # finished: no longer live
    assert report.live == () and [s.ref for s in report.forced] == [ref]
    assert refs_of(a)[ref] == theirs


def test_pull_names_a_stale_ref_lock(bare_remote: Path, make_clone: MakeClone,
                                     monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    """A `<ref>.lock` a killed process left refuses every write of the ref, so pulling again
    cannot help: the report names the file (as git does) instead of "moved during the
    pull", until it is removed."""
    a = make_clone("a", str(bare_remote))
    run_id = marked_run(repo=str(a))
    ref = f"{RUNS}{run_id}"
    push(pygit2.Repository(str(a)), "origin")
    b = make_clone("b", str(bare_remote))
    repo_b = pygit2.Repository(str(b))
    pull(repo_b, "origin")
    mine = refs_of(b)[ref]
    theirs = advance(a, ref, "a newer checkpoint")
    push(pygit2.Repository(str(a)), "origin")
    lock = Path(repo_b.path) / (ref + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")  # left by a killed writer

    for _ in range(2):  # pulling again does not help, and the report keeps saying why
        report = pull(repo_b, "origin")
        assert report.refused == () and report.updated == ()
        assert report.locked == ((ref, str(lock)),)
        assert refs_of(b)[ref] == mine
    text = "\n".join(pull_lines(report))
    assert str(lock) in text and "remove the file" in text and "moved here" not in text
    monkeypatch.chdir(b)
    out = cli("pull", "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["locked"] == [{"ref": ref, "lock": str(lock)}]

    lock.unlink()
    report = pull(repo_b, "origin")
    assert report.locked == () and [s.ref for s in report.updated] == [ref]
    assert refs_of(b)[ref] == theirs
