"""Ancestry and reachability over ids a remote chose: never an exception for what is not a
commit here."""

from __future__ import annotations

from pathlib import Path

import pygit2

from gittrack.git import history, objects
from gittrack.types import CommitId


def _chain(repo: pygit2.Repository, n: int) -> list[CommitId]:
    out: list[CommitId] = []
    for i in range(n):
        tree = objects.write_tree(repo, None, {"f": str(i).encode()})
        out.append(objects.commit(repo, tree, out[-1:], f"c{i}"))
    return out


def test_descends_and_exists_over_hostile_ids(repo: Path) -> None:
    r = pygit2.Repository(str(repo))
    a, _, c = _chain(r, 3)
    blob = str(r.create_blob(b"not a commit"))
    missing = "1" * 40
    assert history.descends(r, c, a) and not history.descends(r, a, c)
    assert not history.descends(r, a, a)  # as git merge-base --is-ancestor of two commits
    for bad in (blob, missing, "not-hex", ""):
        assert not history.descends(r, c, bad) and not history.descends(r, bad, a)
    assert history.exists(r, blob) and history.exists(r, a)
    assert not history.exists(r, missing) and not history.exists(r, "zz")


def test_reaches_is_ancestry_with_the_tip_included_and_forged_ids_reach_nothing(
        repo: Path) -> None:
    r = pygit2.Repository(str(repo))
    a, b, c = _chain(r, 3)
    blob = str(r.create_blob(b"not a commit"))
    assert history.reaches(r, c, a) and history.reaches(r, c, c) and history.reaches(r, b, a)
    assert not history.reaches(r, a, c)
    for bad in (blob, "1" * 40, "not-hex", "../../x", ""):
        assert not history.reaches(r, c, bad) and not history.reaches(r, bad, a)


def test_reachable_commits_skips_what_is_not_a_commit(repo: Path) -> None:
    r = pygit2.Repository(str(repo))
    a, b, c = _chain(r, 3)
    blob = str(r.create_blob(b"x"))
    tree = str(objects.write_tree(r, None, {"f": b"1"}))
    assert set(history.reachable_commits(r, [c, blob, tree, "2" * 40])) == {a, b, c}
    assert set(history.reachable_commits(r, [c], stop=[a, blob])) == {b, c}
    assert list(history.reachable_commits(r, [blob])) == []


def test_resolve_and_rev_list_take_what_git_takes_and_refuse_the_rest(repo: Path) -> None:
    r = pygit2.Repository(str(repo))
    a, b, c = _chain(r, 3)
    r.references.create("refs/heads/tip", c)
    r.create_tag("v1", a, pygit2.enums.ObjectType.COMMIT, pygit2.Signature("t", "t@x"), "tag")
    blob = str(r.create_blob(b"not a commit"))
    assert history.resolve(r, c[:7]) == c and history.resolve(r, "tip~1") == b
    assert history.resolve(r, "v1") == a  # an annotated tag peels to its commit
    for bad in (blob, "1" * 40, "no/such", "", "tip~9", "a..b"):
        assert history.resolve(r, bad) is None
    assert history.rev_list(r, a, "tip") == [c, b]
    assert history.rev_list(r, "tip", a) == []
    assert history.rev_list(r, "nowhere", "tip") is None
