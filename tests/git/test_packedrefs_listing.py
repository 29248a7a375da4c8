"""Listing refs from the files git keeps them in (``packedrefs.list_prefixes``, behind
``refs.list_refs``): the same refs libgit2 lists, loose winning over packed, and the text form
only when every ref under the prefix is packed."""

from __future__ import annotations

import os
from pathlib import Path

import pygit2

from gittrack.git import packedrefs, refs
from gittrack.types import CommitId, RefName
from tests.helpers.repos import fake_runs, git, make_repo

RUNS = "refs/gittrack/runs/"


def libgit2_listing(repo: pygit2.Repository, prefix: str) -> dict[str, str]:
    return {r.name: str(r.target) for r in repo.references.iterator()
            if r.name.startswith(prefix) and isinstance(r.target, pygit2.Oid)}


def test_packed_and_loose_refs_are_listed_as_libgit2_lists_them(tmp_path: Path) -> None:
    clone = make_repo(tmp_path / "r")
    made = fake_runs(clone, 30)  # packed (one transaction)
    repo = pygit2.Repository(str(clone))
    head = git(clone, "rev-parse", "HEAD").strip()
    git(clone, "update-ref", f"{RUNS}r0003", head)  # loose, over its packed value
    git(clone, "update-ref", f"{RUNS}zz-loose", head)  # loose only
    git(clone, "update-ref", "refs/gittrack-remotes/origin/runs/r0001", made[f"{RUNS}r0001"])
    git(clone, "symbolic-ref", f"{RUNS}sym", "refs/heads/main")  # not a direct ref
    (clone / ".git" / RUNS / "r0009.lock").write_text("x")  # a writer's lock: no ref
    for prefix in ("refs/gittrack", "refs/gittrack/", RUNS, "refs/gittrack-remotes/",
                   "refs/heads/", "refs/nothing/"):
        assert refs.list_refs(repo, prefix) == libgit2_listing(repo, prefix), prefix
    assert refs.list_refs(repo, RUNS)[f"{RUNS}r0003"] == head
    local, mirror = refs.list_refs_in(repo, ["refs/gittrack/", "refs/gittrack-remotes/"])
    assert len(local) == 31 and list(mirror) == ["refs/gittrack-remotes/origin/runs/r0001"]


def test_the_text_form_is_the_packed_lines_or_nothing(tmp_path: Path) -> None:
    clone = make_repo(tmp_path / "r")
    made = fake_runs(clone, 5)
    repo = pygit2.Repository(str(clone))
    text = refs.listing(repo, RUNS)
    assert text == "".join(f"{sha} {ref}\n" for ref, sha in sorted(made.items()))
    assert refs.listing(repo, "refs/gittrack-remotes/") == ""
    head = git(clone, "rev-parse", "HEAD").strip()
    git(clone, "update-ref", f"{RUNS}r0002", head)  # now loose: no single text says it
    assert refs.listing(repo, RUNS) is None
    assert refs.list_refs(repo, RUNS)[f"{RUNS}r0002"] == head
    git(clone, "pack-refs", "--all")
    assert refs.listing(repo, RUNS) is not None


def test_a_batch_creating_a_ref_and_one_inside_it_is_refused(tmp_path: Path) -> None:
    """The clash check of a transaction creating many refs: a new ref whose name is the folder
    of another new one (or the reverse) in the same batch is refused."""
    clone = make_repo(tmp_path / "r")
    repo = pygit2.Repository(str(clone))
    head = CommitId(git(clone, "rev-parse", "HEAD").strip())
    names = [RefName(f"{RUNS}n{i}") for i in range(50)]
    updates = [refs.RefUpdate(n, head) for n in names]
    updates += [refs.RefUpdate(RefName(f"{RUNS}n7/inside"), head),
                refs.RefUpdate(RefName(f"{RUNS}deep/a"), head),
                refs.RefUpdate(RefName(f"{RUNS}deep"), head)]
    refused = packedrefs.transaction(repo, updates)
    assert {u.name for u in refused} == {f"{RUNS}n7/inside", f"{RUNS}deep"}
    assert set(refs.list_refs(repo, RUNS)) == {*names, f"{RUNS}deep/a"}


def test_a_loose_ref_named_with_bytes_that_are_not_utf8_is_listed(tmp_path: Path) -> None:
    clone = make_repo(tmp_path / "r")
    repo = pygit2.Repository(str(clone))
    head = git(clone, "rev-parse", "HEAD").strip()
    folder = clone / ".git" / "refs" / "gittrack" / "runs"
    folder.mkdir(parents=True)
    (folder / os.fsdecode(b"caf\xe9")).write_text(head + "\n")
    assert refs.list_refs(repo, RUNS) == {RUNS + os.fsdecode(b"caf\xe9"): head}
