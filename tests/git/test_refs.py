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


# -- update_refs: many refs in one packed-refs transaction ---------------------------------

def _show_refs(repo: Path, prefix: str = "refs/") -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
    return dict(line.split(" ") for line in out.splitlines())


def test_update_refs_writes_packed_refs_that_git_reads(repo_obj: pygit2.Repository,
                                                       repo: Path) -> None:
    git(repo, "tag", "-a", "-m", "annotated", "v1")  # a peeled entry the rewrite must keep
    git(repo, "pack-refs", "--all")
    commits = [make_commit(repo_obj, f"c{i}") for i in range(4)]
    updates = [refs.RefUpdate(RefName(f"refs/gittrack/runs/r{i:03d}"), commits[i % 4])
               for i in range(300)]
    assert refs.update_refs(repo_obj, updates) == ()
    assert not (repo / ".git" / "refs" / "gittrack").exists()  # no loose file per ref
    shown = _show_refs(repo, "refs/gittrack/")
    assert shown == {u.name: u.new for u in updates}
    assert refs.list_refs(pygit2.Repository(str(repo)), "refs/gittrack/runs/") == shown
    assert git(repo, "rev-parse", "v1^{commit}").strip() == git(repo, "rev-parse", "main").strip()
    git(repo, "fsck", "--no-dangling")
    git(repo, "pack-refs", "--all")  # git accepts the file as its own
    assert _show_refs(repo, "refs/gittrack/") == shown


def test_update_refs_compares_and_swaps_each_ref(repo_obj: pygit2.Repository,
                                                 repo: Path) -> None:
    a, b, c = (make_commit(repo_obj, t) for t in "abc")
    x, y, z = (RefName(f"refs/gittrack/runs/{n}") for n in "xyz")
    refs.update_ref(repo_obj, x, a, None)  # loose
    refs.update_refs(repo_obj, [refs.RefUpdate(y, a)])  # packed
    refused = refs.update_refs(repo_obj, [
        refs.RefUpdate(x, b, a),  # loose, right old value: moves
        refs.RefUpdate(y, b, c),  # packed, wrong old value: refused
        refs.RefUpdate(z, b, a),  # missing but expected: refused
    ])
    assert [u.name for u in refused] == [y, z]
    assert _show_refs(repo, "refs/gittrack/") == {x: b, y: a}
    assert not (repo / ".git" / x).exists()  # the loose file went once packed
    assert refs.update_refs(repo_obj, [refs.RefUpdate(y, c, checked=False),
                                       refs.RefUpdate(x, None, b)]) == ()
    assert _show_refs(repo, "refs/gittrack/") == {y: c}


def test_update_refs_respects_other_writers(repo_obj: pygit2.Repository, repo: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(refs, "_LOCK_WAIT_S", 0.1)
    a, b = make_commit(repo_obj, "a"), make_commit(repo_obj, "b")
    busy, sym, clash = (RefName(f"refs/gittrack/runs/{n}") for n in ("busy", "sym", "dir"))
    refs.update_ref(repo_obj, busy, a, None)
    (repo / ".git" / f"{busy}.lock").write_text("")  # another writer holds it
    git(repo, "symbolic-ref", sym, busy)
    refs.update_ref(repo_obj, RefName(f"{clash}/inside"), a, None)
    refused = refs.update_refs(repo_obj, [refs.RefUpdate(busy, b, a),
                                          refs.RefUpdate(sym, b, checked=False),
                                          refs.RefUpdate(clash, b)])
    assert {u.name for u in refused} == {busy, sym, clash}
    assert (repo / ".git" / f"{busy}.lock").exists()  # not ours to remove
    (repo / ".git" / "packed-refs.lock").write_text("")
    with pytest.raises(ConflictError, match="another git process"):
        refs.update_refs(repo_obj, [refs.RefUpdate(RefName("refs/gittrack/runs/n"), a)])
    assert (repo / ".git" / "packed-refs.lock").exists()


def test_update_refs_deletes_reflogs_and_works_from_a_worktree(
        repo_obj: pygit2.Repository, repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "core.logAllRefUpdates", "always")
    git(repo, "update-ref", "-m", "made", "refs/gittrack/runs/logged", "HEAD")
    head = CommitId(git(repo, "rev-parse", "HEAD").strip())
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    wt = pygit2.Repository(str(tmp_path / "wt"))
    assert refs.update_refs(wt, [
        refs.RefUpdate(RefName("refs/gittrack/runs/logged"), None, head),
        refs.RefUpdate(RefName("refs/gittrack/runs/new"), head)]) == ()
    assert not (repo / ".git" / "logs" / "refs" / "gittrack" / "runs" / "logged").exists()
    assert _show_refs(repo, "refs/gittrack/") == {"refs/gittrack/runs/new": head}
