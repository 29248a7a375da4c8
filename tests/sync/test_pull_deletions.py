"""A run, artifact or alias a teammate deleted on the remote: pull deletes it here too when it
has nothing new here (refs, reflogs and the objects only it reached), keeps and reports it when
it has local changes or with ``--no-prune``, and push does not send it back unless forced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gittrack.runs import index
from gittrack.sync.delete import delete_artifact, delete_runs
from gittrack.sync.pull import KeptBecause, fetch, pull
from gittrack.sync.push import push
from gittrack.types import RunId
from tests.helpers.cli import CliResult
from tests.helpers.repos import (
    CODE,
    RUNS,
    MakeClone,
    advance,
    bare,
    git,
    objects_containing,
    refs_of,
)
from tests.helpers.runs import log_run, marked_run, marker


def ok(result: CliResult) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


def test_deleted_on_the_remote_follows_here_unless_changed_here(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    mark = marker()
    gone, changed, kept = marked_run(mark), marked_run(), marked_run()
    log_run(a, fast_settings, data="x\n")  # artifact "data", alias "best"
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("pull"))
    assert objects_containing(b, mark) > 0
    advance(b, f"{RUNS}{changed}", "a checkpoint only b has")

    monkeypatch.chdir(a)  # a teammate deletes two runs and the alias on the remote
    ok(cli("rm", "--remote", "origin", "--yes", gone, changed))
    git(a, "push", "-q", "origin", ":refs/gittrack/aliases/data/best")

    monkeypatch.chdir(b)
    out = ok(cli("fetch"))
    assert f"would delete 1 run, 1 alias, deleted on origin: alias data:best, run {gone}" in out
    assert f"run {changed}, kept here because it has local changes" in out
    assert f"{RUNS}{gone}" in refs_of(b)  # fetch moves nothing

    out = ok(cli("pull", "--no-prune"))
    assert f"run {gone}, kept here because --no-prune" in out
    assert f"{RUNS}{gone}" in refs_of(b)

    out = ok(cli("pull", "--json"))
    report = json.loads(out)
    assert report["deleted"] == ["refs/gittrack/aliases/data/best", f"{RUNS}{gone}"]
    assert report["kept"] == [{"ref": f"{RUNS}{changed}", "local": refs_of(b)[
        f"{RUNS}{changed}"], "why": "local_changes"}]
    assert report["pruned_objects"] > 0
    left = refs_of(b)
    assert f"{RUNS}{gone}" not in left and "refs/gittrack/aliases/data/best" not in left
    assert f"{RUNS}{changed}" in left and f"{RUNS}{kept}" in left
    assert objects_containing(b, mark) == 0  # its objects went, as with `gittrack rm`
    assert not (b / ".git" / "logs" / "refs" / "gittrack" / "runs" / gone).exists()
    git(b, "fsck", "--no-dangling")
    cache = index.cache_path(pygit2.Repository(str(b)))  # nor its cached config (journal too)
    for path in cache.parent.glob(cache.name + "*"):
        assert mark.encode() not in path.read_bytes()

    # the kept run is still reported, and push does not send it back unless forced
    assert f"run {changed}, kept here because it has local changes" in ok(cli("pull"))
    result = cli("push")
    assert result.exit_code == 5 and f"run {changed} was deleted on origin" in result.stdout
    assert f"{RUNS}{changed}" not in refs_of(bare_remote)
    out = ok(cli("push", "--force"))
    assert f"forced run {changed}: sent back" in out
    assert refs_of(bare_remote)[f"{RUNS}{changed}"] == refs_of(b)[f"{RUNS}{changed}"]
    assert "kept here" not in ok(cli("pull"))


def test_a_ref_only_here_or_a_repointed_remote_is_never_deleted(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path) -> None:
    a = make_clone("a", str(bare_remote))
    first = marked_run(repo=str(a))
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    local_only = marked_run(repo=str(a))  # never pushed: new, not deleted
    assert pull(repo_a, "origin").deleted_remotely == ()

    elsewhere = bare(tmp_path / "elsewhere.git")  # the remote now points at another repo
    git(a, "push", "-q", str(elsewhere), "main", f"{RUNS}{local_only}")
    git(a, "remote", "set-url", "origin", str(elsewhere))
    report = pull(repo_a, "origin")
    assert report.deleted == () and [(k.ref, k.why) for k in report.kept] == [
        (f"{RUNS}{first}", KeptBecause.UNSURE)]
    assert f"{RUNS}{first}" in refs_of(a)
    assert pull(repo_a, "origin").kept == ()  # said once: the mirror is of this URL now
    assert [s.ref for s in push(repo_a, "origin").sent if not s.ref.startswith(CODE)] == [
        f"{RUNS}{first}"]  # with its code ref, which that remote lacked

    git(elsewhere, "update-ref", "-d", f"{RUNS}{first}")
    git(elsewhere, "update-ref", "-d", f"{RUNS}{local_only}")  # emptied, or replaced
    report = fetch(repo_a, "origin")
    assert report.deleted == () and {k.why for k in report.kept} == {KeptBecause.UNSURE}


def test_two_clones_deleting_and_logging(bare_remote: Path, make_clone: MakeClone,
                                         fast_settings: dict[str, object]) -> None:
    a = make_clone("a", str(bare_remote))
    data_run = log_run(a, fast_settings, data="v0\n")
    other = log_run(a, fast_settings, data=None)
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    b = make_clone("b", str(bare_remote))
    repo_b = pygit2.Repository(str(b))
    pull(repo_b, "origin")
    delete_artifact(repo_b, "data", remote="origin")  # b removes the artifact everywhere
    delete_runs(repo_b, [RunId(data_run)], remote="origin")
    new_in_a = log_run(a, fast_settings, data=None)  # meanwhile a logs another run
    report = pull(repo_a, "origin")
    assert sorted(s.ref for s in report.deleted) == [
        "refs/gittrack/aliases/data/best", "refs/gittrack/artifacts/data", f"{RUNS}{data_run}"]
    assert set(refs_of(a)) == {f"{RUNS}{other}", f"{RUNS}{new_in_a}"}
    assert [s.ref for s in push(repo_a, "origin").sent] == [f"{RUNS}{new_in_a}"]
    assert refs_of(bare_remote) == refs_of(a)


def test_a_push_to_a_repointed_remote_resets_what_the_mirror_says(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path) -> None:
    a = make_clone("a", str(bare_remote))
    sent, unsent = marked_run(repo=str(a)), marked_run(repo=str(a))
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    elsewhere = bare(tmp_path / "elsewhere.git")
    git(a, "remote", "set-url", "origin", str(elsewhere))
    assert [s.ref for s in push(repo_a, "origin", [sent]).sent
            if not s.ref.startswith(CODE)] == [f"{RUNS}{sent}"]
    report = pull(repo_a, "origin")  # `unsent` was never on this remote: neither deleted
    assert report.deleted_remotely == ()  # nor reported
    assert f"{RUNS}{unsent}" in refs_of(a)


def test_a_run_live_in_another_worktree_is_not_deleted(bare_remote: Path,
                                                        make_clone: MakeClone) -> None:
    """Refs are shared by the worktrees of a repository, write-ahead logs are not: a run being
    written from a linked worktree is live for a pull in the main one too."""
    a = make_clone("a", str(bare_remote))
    run, _ = marked_run(repo=str(a)), marked_run(repo=str(a))  # the other stays on the remote
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    b = make_clone("b", str(bare_remote))
    repo_b = pygit2.Repository(str(b))
    pull(repo_b, "origin")
    git(b, "worktree", "add", "-q", str(b.parent / "b-wt"))
    wt = pygit2.Repository(str(b.parent / "b-wt"))
    (Path(wt.path) / "gittrack" / "wal" / run).mkdir(parents=True)  # where a run there logs
    delete_runs(repo_a, [RunId(run)], remote="origin")
    report = pull(repo_b, "origin")
    assert report.deleted == () and [(k.ref, k.why) for k in report.kept] == [
        (f"{RUNS}{run}", KeptBecause.LIVE)]
    assert f"{RUNS}{run}" in refs_of(b)
    assert pull(wt, "origin").deleted == ()  # nor from the worktree itself
    assert f"{RUNS}{run}" in refs_of(b)


def test_a_pull_from_a_linked_worktree_keeps_the_tombstones(bare_remote: Path,
                                                             make_clone: MakeClone) -> None:
    """The mirror and its tombstones are shared refs; the record of the mirror's URL must be
    shared too, or a pull from a worktree takes the mirror for another remote's, drops the
    tombstones, and the next push sends a teammate's deleted run back without --force."""
    a = make_clone("a", str(bare_remote))
    run, _ = marked_run(repo=str(a)), marked_run(repo=str(a))
    push(pygit2.Repository(str(a)), "origin")
    b = make_clone("b", str(bare_remote))
    repo_b = pygit2.Repository(str(b))
    pull(repo_b, "origin")
    advance(b, f"{RUNS}{run}", "a checkpoint only b has")
    delete_runs(pygit2.Repository(str(a)), [RunId(run)], remote="origin")
    assert [k.why for k in pull(repo_b, "origin").kept] == [KeptBecause.LOCAL_CHANGES]
    git(b, "worktree", "add", "-q", str(b.parent / "b-wt"))
    wt = pygit2.Repository(str(b.parent / "b-wt"))
    assert [k.why for k in pull(wt, "origin").kept] == [KeptBecause.LOCAL_CHANGES]
    assert push(repo_b, "origin").sent == ()
    assert f"{RUNS}{run}" not in refs_of(bare_remote)


@pytest.mark.parametrize("how", ["purge", "rm"])
def test_a_remote_emptied_by_deletion_stays_deleted(
        how: str, bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        cli: Any) -> None:
    """A deletes the remote's only run; B, who had pulled it, does not send it back, and its
    next pull deletes B's copy (B made nothing new)."""
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    only = marked_run()
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("pull"))
    monkeypatch.chdir(a)
    ok(cli(how, "--yes", only) if how == "purge" else cli("rm", "--yes", "--remote", "origin",
                                                           only))
    assert refs_of(bare_remote) == {}

    monkeypatch.chdir(b)
    result = cli("push")
    assert result.exit_code == 5 and f"run {only} was deleted on origin" in result.stdout
    assert refs_of(bare_remote) == {}
    out = ok(cli("pull"))
    assert f"run {only}" in out and "kept here" not in out
    assert refs_of(b) == {}
    ok(cli("push"))
    assert refs_of(bare_remote) == {}


def test_a_replaced_empty_remote_is_still_not_a_deletion(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path) -> None:
    """A remote that was emptied without gittrack (or replaced by a new empty repository at
    the same URL) says nothing about deletions: pull keeps the runs, push sends them."""
    a = make_clone("a", str(bare_remote))
    run = marked_run(repo=str(a))
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    git(bare_remote, "update-ref", "-d", f"{RUNS}{run}")
    report = pull(repo_a, "origin")
    assert report.deleted == () and [k.why for k in report.kept] == [KeptBecause.UNSURE]
    assert [s.ref for s in push(repo_a, "origin").sent] == [f"{RUNS}{run}"]
