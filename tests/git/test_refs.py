from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gittrack.errors import ConflictError
from gittrack.git import objects, refs
from gittrack.types import CommitId, RefName
from tests.conftest import git


@pytest.fixture
def repo_obj(repo: Path) -> pygit2.Repository:
    return pygit2.Repository(str(repo))


def make_commit(repo: pygit2.Repository, text: str) -> CommitId:
    tree = objects.write_tree(repo, None, {"f": text.encode()})
    return objects.commit(repo, tree, [], text)


def test_create_get_and_list(repo_obj: pygit2.Repository, repo: Path) -> None:
    a, b = make_commit(repo_obj, "a"), make_commit(repo_obj, "b")
    refs.update_ref(repo_obj, RefName("refs/gittrack/runs/x"), a, None)
    refs.update_ref(repo_obj, RefName("refs/gittrack/runs/y"), b, None)
    assert refs.get_ref(repo_obj, RefName("refs/gittrack/runs/x")) == a
    assert refs.get_ref(repo_obj, RefName("refs/gittrack/runs/missing")) is None
    assert refs.list_refs(repo_obj, "refs/gittrack/runs/") == {
        "refs/gittrack/runs/x": a, "refs/gittrack/runs/y": b}
    assert "refs/heads/main" not in refs.list_refs(repo_obj, "refs/gittrack/")
    # plain git sees the same refs
    assert git(repo, "rev-parse", "refs/gittrack/runs/x").strip() == a


def test_list_refs_finds_packed_refs(repo_obj: pygit2.Repository, repo: Path) -> None:
    a = make_commit(repo_obj, "a")
    refs.update_ref(repo_obj, RefName("refs/gittrack/runs/p"), a, None)
    git(repo, "pack-refs", "--all")
    assert refs.list_refs(pygit2.Repository(str(repo)), "refs/gittrack/runs/") == {
        "refs/gittrack/runs/p": a}


def test_compare_and_swap(repo_obj: pygit2.Repository) -> None:
    name = RefName("refs/gittrack/runs/cas")
    a, b, c = (make_commit(repo_obj, t) for t in "abc")
    refs.update_ref(repo_obj, name, a, None)
    with pytest.raises(ConflictError, match="cas"):
        refs.update_ref(repo_obj, name, b, None)  # must not exist
    with pytest.raises(ConflictError, match="moved"):
        refs.update_ref(repo_obj, name, b, c)  # wrong old value
    assert refs.get_ref(repo_obj, name) == a
    refs.update_ref(repo_obj, name, b, a)
    assert refs.get_ref(repo_obj, name) == b
    with pytest.raises(ConflictError, match="moved"):
        refs.update_ref(repo_obj, RefName("refs/gittrack/runs/none"), b, a)


def test_cas_sees_a_move_by_another_writer(repo_obj: pygit2.Repository, repo: Path) -> None:
    name = RefName("refs/gittrack/runs/other")
    a, b, c = (make_commit(repo_obj, t) for t in "abc")
    refs.update_ref(repo_obj, name, a, None)
    git(repo, "update-ref", name, b)  # another process moves it
    with pytest.raises(ConflictError):
        refs.update_ref(repo_obj, name, c, a)
    assert git(repo, "rev-parse", name).strip() == b


def test_delete_ref(repo_obj: pygit2.Repository) -> None:
    name = RefName("refs/gittrack/runs/del")
    a, b = make_commit(repo_obj, "a"), make_commit(repo_obj, "b")
    refs.update_ref(repo_obj, name, a, None)
    with pytest.raises(ConflictError):
        refs.delete_ref(repo_obj, name, b)
    refs.delete_ref(repo_obj, name, a)
    assert refs.get_ref(repo_obj, name) is None
    with pytest.raises(ConflictError):
        refs.delete_ref(repo_obj, name, a)


def test_symbolic_refs_are_not_listed(repo_obj: pygit2.Repository, repo: Path) -> None:
    a = make_commit(repo_obj, "a")
    refs.update_ref(repo_obj, RefName("refs/gittrack/runs/real"), a, None)
    git(repo, "symbolic-ref", "refs/gittrack/runs/sym", "refs/gittrack/runs/real")
    assert list(refs.list_refs(repo_obj, "refs/gittrack/runs/")) == ["refs/gittrack/runs/real"]
    assert refs.get_ref(repo_obj, RefName("refs/gittrack/runs/sym")) is None
