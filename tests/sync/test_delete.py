"""``delete_runs`` / ``delete_artifact``: refs, reflogs and objects only they reached, here
and on a bare remote; everything else untouched."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gittrack.errors import NotFoundError, RunLockedError
from gittrack.runs import store
from gittrack.sync.delete import delete_artifact, delete_runs
from gittrack.types import RunId
from tests.helpers.repos import (
    add_bare_remote,
    git,
    has_object,
    objects_containing,
    push_all,
    unique_objects,
)
from tests.helpers.runs import marked_run, marker


@pytest.mark.parametrize("packed", [False, True])
def test_rm_removes_the_run_and_only_its_objects(repo: Path, packed: bool) -> None:
    mark = marker()
    gone, kept = marked_run(mark), marked_run()
    unique = unique_objects(repo, f"refs/gittrack/runs/{gone}")
    kept_objects = git(repo, "rev-list", "--objects", "--no-object-names",
                       f"refs/gittrack/runs/{kept}", "main").split()
    if packed:
        git(repo, "gc", "-q")
    assert unique and objects_containing(repo, mark) > 0
    report = delete_runs(pygit2.Repository(str(repo)), [RunId(gone)])
    assert report.changed == (f"refs/gittrack/runs/{gone}",) and not report.kept
    assert not any(has_object(repo, oid) for oid in unique)
    assert objects_containing(repo, mark) == 0
    assert all(has_object(repo, oid) for oid in kept_objects)
    assert list(store.list_runs(pygit2.Repository(str(repo)))) == [kept]
    git(repo, "fsck", "--no-dangling")


def test_rm_keeps_the_users_other_unreachable_objects(repo: Path) -> None:
    dangling = _dangling_blob(repo)
    run_id = marked_run()
    delete_runs(pygit2.Repository(str(repo)), [RunId(run_id)])
    assert has_object(repo, dangling)  # the user's safety net (gc.pruneExpire) is theirs


def _dangling_blob(repo: Path) -> str:
    (repo / "scratch.txt").write_text("not gittrack's\n")
    return git(repo, "hash-object", "-w", "scratch.txt").strip()


def test_rm_deletes_reflogs_that_git_wrote(repo: Path) -> None:
    git(repo, "config", "core.logAllRefUpdates", "always")
    run_id = marked_run()
    ref = f"refs/gittrack/runs/{run_id}"
    git(repo, "update-ref", "-m", "touch", ref, ref)  # git itself writes a reflog entry
    assert (repo / ".git" / "logs" / ref).exists()
    delete_runs(pygit2.Repository(str(repo)), [RunId(run_id)])
    assert not (repo / ".git" / "logs" / ref).exists()
    assert git(repo, "reflog", "--all").count(run_id[:7]) == 0


def test_rm_refuses_a_live_run_and_unknown_ids(repo: Path) -> None:
    import gittrack

    run = gittrack.init(settings={"quiet": True})
    with pytest.raises(RunLockedError):
        delete_runs(pygit2.Repository(str(repo)), [RunId(run.id)])
    run.finish()
    with pytest.raises(NotFoundError):
        delete_runs(pygit2.Repository(str(repo)), [RunId("nope")])



def test_rm_refuses_a_run_live_in_another_worktree(repo: Path) -> None:
    """A run started in a linked worktree logs under that worktree's git folder; its ref is
    shared, so `gittrack rm` from the main worktree must see it is live."""
    import gittrack

    git(repo, "worktree", "add", "-q", str(repo.parent / "wt"))
    run = gittrack.init(repo=str(repo.parent / "wt"), settings={"quiet": True})
    with pytest.raises(RunLockedError):
        delete_runs(pygit2.Repository(str(repo)), [RunId(run.id)])
    assert store.head(pygit2.Repository(str(repo)), RunId(run.id)) is not None
    run.finish()
    delete_runs(pygit2.Repository(str(repo)), [RunId(run.id)])
    assert store.head(pygit2.Repository(str(repo)), RunId(run.id)) is None

def test_rm_with_remote_deletes_there_in_one_push(repo: Path) -> None:
    bare = add_bare_remote(repo)
    gone, also, kept = marked_run(), marked_run(), marked_run()
    push_all(repo)
    git(repo, "fetch", "-q", "origin", "+refs/gittrack/*:refs/gittrack-remotes/origin/*")
    report = delete_runs(pygit2.Repository(str(repo)), [RunId(gone), RunId(also)],
                         remote="origin")
    assert sorted(report.remote_changed) == sorted(
        f"refs/gittrack/runs/{r}" for r in (gone, also))
    remote_refs = git(bare, "for-each-ref", "--format=%(refname)", "refs/gittrack/").split()
    # the runs' code ref stays until `gittrack gc` (tests/runs/test_coderefs.py)
    assert [r for r in remote_refs if "/code/" not in r] == [f"refs/gittrack/runs/{kept}"]
    mirrors = git(repo, "for-each-ref", "--format=%(refname)", "refs/gittrack-remotes").split()
    assert [r for r in mirrors if "/code/" not in r] == [
        f"refs/gittrack-remotes/origin/runs/{kept}"]


def test_rm_without_remote_says_where_the_run_still_is(repo: Path) -> None:
    add_bare_remote(repo)
    run_id = marked_run()
    push_all(repo)
    git(repo, "fetch", "-q", "origin", "+refs/gittrack/*:refs/gittrack-remotes/origin/*")
    report = delete_runs(pygit2.Repository(str(repo)), [RunId(run_id)])
    assert report.elsewhere == ("origin",)


def test_artifact_rm_deletes_versions_and_aliases_here_and_there(repo: Path) -> None:
    bare = add_bare_remote(repo)
    (repo / "w.bin").write_bytes(b"weights")
    marked_run(artifact=("model", repo / "w.bin"))
    (repo / "d.bin").write_bytes(b"data")
    marked_run(artifact=("data", repo / "d.bin"))
    git(repo, "update-ref", "refs/gittrack/aliases/model/best", "refs/gittrack/artifacts/model")
    push_all(repo)
    git(bare, "update-ref", "refs/gittrack/aliases/model/prod", "refs/gittrack/artifacts/model")
    delete_artifact(pygit2.Repository(str(repo)), "model", remote="origin")
    for where in (repo, bare):
        names = git(where, "for-each-ref", "--format=%(refname)", "refs/gittrack/").split()
        assert not [n for n in names if "model" in n]
        assert "refs/gittrack/artifacts/data" in names


def test_rm_of_many_runs_is_one_transaction_and_removes_everything(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of runs, some packed and some loose, some with reflogs: one `update_refs`
    call deletes them all; every ref, reflog and object only they reached is gone."""
    from gittrack.git import refs
    from tests.helpers.repos import RUNS, fake_runs

    git(repo, "config", "core.logAllRefUpdates", "always")
    kept = marked_run()
    kept_objects = git(repo, "rev-list", "--objects", "--no-object-names",
                       f"{RUNS}{kept}").split()
    made = fake_runs(repo, 300)  # packed (one transaction)
    loose = {f"{RUNS}{marked_run()}" for _ in range(3)}  # real runs: loose refs
    for ref in sorted(loose)[:2]:
        git(repo, "update-ref", "-m", "touch", ref, ref)  # git writes their reflogs
    doomed = {**made, **{ref: git(repo, "rev-parse", ref).strip() for ref in sorted(loose)}}
    unique = {oid for ref in doomed for oid in unique_objects(repo, ref)}
    assert len(unique) >= 3 * len(doomed)
    calls: list[int] = []
    real = refs.update_refs

    def counting(r: pygit2.Repository, updates: list[refs.RefUpdate]) -> object:
        calls.append(len(updates))
        return real(r, updates)

    monkeypatch.setattr(refs, "update_refs", counting)
    report = delete_runs(pygit2.Repository(str(repo)),
                         [RunId(ref[len(RUNS):]) for ref in sorted(doomed)])
    assert calls == [len(doomed)]
    assert sorted(report.changed) == sorted(doomed) and report.skipped == ()
    assert report.pruned >= len(unique)
    left = git(repo, "for-each-ref", "--format=%(refname)", "refs/gittrack/").split()
    assert [r for r in left if r.startswith(RUNS)] == [f"{RUNS}{kept}"]
    assert not [ref for ref in doomed if (repo / ".git" / "logs" / ref).exists()]
    assert not [oid for oid in unique if has_object(repo, oid)]
    assert all(has_object(repo, oid) for oid in kept_objects)
    assert list(store.list_runs(pygit2.Repository(str(repo)))) == [kept]
    assert not list((repo / ".git").glob("packed-refs.*"))
    git(repo, "fsck", "--no-dangling")


def test_rm_leaves_a_run_that_moved_meanwhile_and_deletes_the_rest(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compare-and-swap per ref in the one transaction: a run whose ref moved after `rm`
    read it (a late checkpoint, another clone's pull) is kept, with its new commit, and
    reported; the others are deleted, and the command fails so that it is run again."""
    from gittrack.cli import rm_cmd
    from gittrack.errors import ConflictError
    from gittrack.git import refs
    from gittrack.sync import delete
    from tests.helpers.repos import RUNS, advance

    moved, gone = marked_run(), marked_run()
    real = refs.update_refs
    late: list[str] = []

    def moved_first(r: pygit2.Repository, updates: list[refs.RefUpdate]) -> object:
        if not late:
            late.append(advance(repo, f"{RUNS}{moved}", "late checkpoint"))
        return real(r, updates)

    monkeypatch.setattr(refs, "update_refs", moved_first)
    report = delete.delete_runs(pygit2.Repository(str(repo)), [RunId(moved), RunId(gone)])
    assert report.changed == (f"{RUNS}{gone}",)
    assert report.skipped == (f"{RUNS}{moved}",)
    assert git(repo, "rev-parse", f"{RUNS}{moved}").strip() == late[0]
    assert has_object(repo, late[0])
    assert store.head(pygit2.Repository(str(repo)), RunId(gone)) is None
    lines = rm_cmd.tail(report)
    assert any(f"{RUNS}{moved}" in line for line in lines)
    with pytest.raises(ConflictError, match="again"):
        rm_cmd.check_skipped(report)
