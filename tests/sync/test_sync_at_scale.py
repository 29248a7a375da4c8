"""Sync of a large repository (issue 10), at a scale a test affords: a push or pull with
nothing to do says so from the ref listings alone (no object read, nothing written), and a
pull of many new runs lands them all, the mirror agreeing with the remote."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pygit2

from gittrack.git import objects, refs, transport
from gittrack.sync.compare import Standing
from gittrack.sync.pull import fetch, pull
from gittrack.sync.push import push
from gittrack.types import CommitId, RefName
from tests.helpers.repos import RUNS, MakeClone, advance, fake_runs, git, refs_of

MANY = 2_000


@contextlib.contextmanager
def objects_hidden(clone: Path) -> Iterator[None]:
    """The clone's object database moved away: anything that reads a commit or tree fails."""
    objects, away = clone / ".git" / "objects", clone / ".git" / "objects-away"
    os.rename(objects, away)
    (objects / "pack").mkdir(parents=True)
    (objects / "info").mkdir()
    try:
        yield
    finally:
        shutil.rmtree(objects)
        os.rename(away, objects)


def ref_files(clone: Path) -> tuple[bytes, list[str]]:
    """``packed-refs`` and the loose ref files: what a sync that writes nothing leaves."""
    git_dir = clone / ".git"
    loose = sorted(str(p.relative_to(git_dir)) for p in (git_dir / "refs").rglob("*")
                   if p.is_file())
    return (git_dir / "packed-refs").read_bytes(), loose


def test_a_sync_with_nothing_to_do_reads_no_object_and_writes_nothing(
        bare_remote: Path, make_clone: MakeClone) -> None:
    a = make_clone("a", str(bare_remote))
    made = fake_runs(a, MANY)
    repo_a = pygit2.Repository(str(a))
    assert len(push(repo_a, "origin").sent) == MANY
    git(a, "pack-refs", "--all")  # refs packed, as after gc or a clone: the listing's fast path
    before = ref_files(a)
    with objects_hidden(a):
        repo_a = pygit2.Repository(str(a))
        report = push(repo_a, "origin")
        assert report.sent == () and report.held == () and report.up_to_date == MANY
        pulled = pull(repo_a, "origin")
        assert pulled.updated == pulled.deleted == pulled.kept == ()
        assert pulled.states == () and pulled.up_to_date == MANY
        assert fetch(repo_a, "origin").up_to_date == MANY
    assert ref_files(a) == before
    assert transport.ls_remote(repo_a, "origin") == made


def test_pulling_many_new_runs_into_a_large_clone(bare_remote: Path,
                                                   make_clone: MakeClone) -> None:
    a = make_clone("a", str(bare_remote))
    fake_runs(a, MANY)
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    b = make_clone("b", str(bare_remote))
    repo_b = pygit2.Repository(str(b))
    assert len(pull(repo_b, "origin").updated) == MANY

    # 300 new runs and 5 advanced ones, made in a and pushed
    new = {f"{RUNS}n{i:04d}": sha for i, sha in enumerate(_more_runs(a, 300))}
    moved = {f"{RUNS}r{i:04d}": advance(a, f"{RUNS}r{i:04d}", f"step {i}") for i in range(5)}
    report = push(repo_a, "origin")
    assert {s.ref for s in report.sent} == {*new, *moved}
    assert report.up_to_date == MANY - 5

    pulled = pull(repo_b, "origin")
    assert {s.ref for s in pulled.updated} == {*new, *moved}
    assert {s.standing for s in pulled.updated} == {Standing.REMOTE_ONLY, Standing.BEHIND}
    assert pulled.up_to_date == MANY - 5
    there = transport.ls_remote(repo_b, "origin")
    assert refs_of(b) == there == refs_of(a)
    assert refs_of(b, "refs/gittrack-remotes/origin/") == {
        "refs/gittrack-remotes/origin/" + r.removeprefix("refs/gittrack/"): s
        for r, s in there.items()}
    assert not [p for p in (b / ".git" / "refs").rglob("*") if p.is_file()
                and "gittrack" in str(p)]  # one packed-refs rewrite, no loose file per ref
    git(b, "fsck", "--no-dangling")
    again = pull(repo_b, "origin")
    assert again.states == () and again.up_to_date == MANY + 300


def test_a_loose_ref_takes_the_ref_by_ref_comparison(bare_remote: Path,
                                                      make_clone: MakeClone) -> None:
    """A run checkpointed here leaves a loose ref: the listing cannot be compared as a text,
    and the push still sends exactly that run."""
    a = make_clone("a", str(bare_remote))
    fake_runs(a, 50)
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    ref = f"{RUNS}r0007"
    git(a, "update-ref", ref, advance(a, ref, "a checkpoint"))
    assert (a / ".git" / ref).is_file()
    report = push(repo_a, "origin")
    assert [s.ref for s in report.sent] == [ref] and report.up_to_date == 49
    assert push(repo_a, "origin").up_to_date == 50  # the mirror learnt it


def test_a_remote_changed_behind_an_unchanged_clone_is_seen(
        bare_remote: Path, make_clone: MakeClone) -> None:
    """Local refs and the mirror agree, but the remote moved: not a no-op."""
    a = make_clone("a", str(bare_remote))
    fake_runs(a, 20)
    repo_a = pygit2.Repository(str(a))
    push(repo_a, "origin")
    b = make_clone("b", str(bare_remote))
    pull(pygit2.Repository(str(b)), "origin")
    theirs = advance(b, f"{RUNS}r0003", "b's checkpoint")
    push(pygit2.Repository(str(b)), "origin")
    report = push(repo_a, "origin")
    assert report.sent == () and [s.ref for s in report.held] == [f"{RUNS}r0003"]
    pulled = pull(repo_a, "origin")
    assert [s.ref for s in pulled.updated] == [f"{RUNS}r0003"]
    assert refs_of(a)[f"{RUNS}r0003"] == theirs


def _more_runs(clone: Path, count: int) -> list[str]:
    repo = pygit2.Repository(str(clone))
    made = []
    for i in range(count):
        tree = objects.write_tree(repo, None, {"run.yaml": f"id: n{i:04d}\n".encode()})
        made.append(objects.commit(repo, tree, [], f"new run {i}"))
    assert refs.update_refs(repo, [refs.RefUpdate(RefName(f"{RUNS}n{i:04d}"), CommitId(s))
                                   for i, s in enumerate(made)]) == ()
    return made
