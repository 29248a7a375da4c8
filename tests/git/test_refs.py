from __future__ import annotations

import os
import stat
import subprocess
import threading
from pathlib import Path

import pygit2
import pytest

from gittrack.errors import ConflictError, RepositoryError
from gittrack.git import objects, packedrefs, refs
from gittrack.types import CommitId, RefName
from tests.helpers.disks import fill, read_only, unfill
from tests.helpers.repos import git, make_repo


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
    monkeypatch.setattr(packedrefs, "_LOCK_WAIT_S", 0.1)
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


def test_common_dir_of_a_worktree_whose_repository_is_not_utf8(tmp_path: Path) -> None:
    """``commondir`` may hold an absolute path (older git, moved worktrees): its bytes are the
    file system's, and reading it as UTF-8 text raised UnicodeDecodeError."""
    main = make_repo(Path(os.fsdecode(os.fsencode(tmp_path) + b"/lat\xe9")))
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"))
    pointer = main / ".git" / "worktrees" / "wt" / "commondir"
    pointer.write_bytes(os.fsencode(main / ".git") + b"\n")
    wt = pygit2.Repository(str(tmp_path / "wt"))
    assert refs.common_dir(wt) == (main / ".git").resolve()


def test_update_refs_holds_packed_refs_lock_until_loose_files_are_gone(
        repo_obj: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `git pack-refs` (as `git gc --auto` runs it) between the rename of packed-refs and
    the removal of the superseded loose files would pack their old values again: the moved
    ref back where it was, the deleted one back to life. Git holds the lock; so must we."""
    a, c = make_commit(repo_obj, "a"), make_commit(repo_obj, "c")
    moved, gone = RefName("refs/gittrack/runs/moved"), RefName("refs/gittrack/runs/gone")
    refs.update_ref(repo_obj, moved, a, None)  # loose files
    refs.update_ref(repo_obj, gone, a, None)
    git(repo, "config", "core.packedRefsTimeout", "0")  # fail at once rather than wait
    ran = []
    finish = packedrefs._Transaction._finish

    def gc_meanwhile(self: packedrefs._Transaction, *args: object) -> None:
        ran.append(subprocess.run(["git", "pack-refs", "--all"], cwd=repo,
                                  capture_output=True).returncode)
        finish(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(packedrefs._Transaction, "_finish", gc_meanwhile)
    assert refs.update_refs(repo_obj, [refs.RefUpdate(moved, c, a),
                                       refs.RefUpdate(gone, None, a)]) == ()
    assert ran and ran[0] != 0  # git found packed-refs locked
    assert _show_refs(repo, "refs/gittrack/") == {moved: c}
    assert not (repo / ".git" / "packed-refs.lock").exists()
    assert not list((repo / ".git").glob("packed-refs.*"))


def test_update_refs_reports_refs_another_writer_set_meanwhile(
        repo_obj: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ref with no loose file is not locked by the transaction: a live run's checkpoint
    (a loose write by libgit2 or git) landing meanwhile wins — and the ref is reported as not
    written, so pull neither says it moved it nor forgets the tombstone of a deletion."""
    a, b, c = (make_commit(repo_obj, t) for t in "abc")
    x, y, z = (RefName(f"refs/gittrack/runs/{n}") for n in "xyz")
    for name in (x, y, z):
        refs.update_ref(repo_obj, name, a, None)
    git(repo, "pack-refs", "--all")
    write = packedrefs._Transaction._write
    busy = repo / ".git" / f"{z}.lock"

    def checkpoints_meanwhile(self: packedrefs._Transaction) -> None:
        git(repo, "update-ref", x, b, a)  # done before our rename: a loose file
        git(repo, "update-ref", y, b, a)
        busy.write_text(b + "\n")  # still being written when we look again
        write(self)

    monkeypatch.setattr(packedrefs._Transaction, "_write", checkpoints_meanwhile)
    refused = refs.update_refs(repo_obj, [refs.RefUpdate(x, c, a), refs.RefUpdate(y, None, a),
                                          refs.RefUpdate(z, c, a)])
    assert {u.name for u in refused} == {x, y, z}
    assert _show_refs(repo, "refs/gittrack/") == {x: b, y: b, z: c}  # z: until they finish
    assert busy.exists()  # theirs


def test_update_refs_compares_with_the_packed_value_when_the_loose_file_went(
        repo_obj: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`git pack-refs` prunes a loose file after packing it: between our listing and our
    lock, the ref's value is the packed one, not "missing"."""
    a, c = make_commit(repo_obj, "a"), make_commit(repo_obj, "c")
    x, y = RefName("refs/gittrack/runs/x"), RefName("refs/gittrack/runs/y")
    refs.update_ref(repo_obj, x, a, None)
    refs.update_ref(repo_obj, y, a, None)
    git(repo, "pack-refs", "--all", "--no-prune")  # packed, loose files still there
    listing = packedrefs._list_folders

    def pruned_after_listing(root: str, folders: set[str]) -> dict[str, set[str]]:
        found = listing(root, folders)
        for name in (x, y):
            (repo / ".git" / name).unlink(missing_ok=True)
        return found

    monkeypatch.setattr(packedrefs, "_list_folders", pruned_after_listing)
    refused = refs.update_refs(repo_obj, [refs.RefUpdate(x, c, a),  # right old value
                                          refs.RefUpdate(y, c, None)])  # "must not exist"
    assert [u.name for u in refused] == [y]
    assert _show_refs(repo, "refs/gittrack/") == {x: c, y: a}


def test_update_refs_keeps_other_refs_byte_for_byte(repo_obj: pygit2.Repository,
                                                    repo: Path) -> None:
    git(repo, "tag", "-a", "-m", "annotated", "v1")
    git(repo, "tag", "light")
    subprocess.run([b"git", b"branch", b"caf\xe9"], cwd=repo, check=True)  # not UTF-8
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    before = packed.read_bytes().splitlines(keepends=True)
    a = make_commit(repo_obj, "a")
    assert refs.update_refs(repo_obj, [refs.RefUpdate(RefName("refs/gittrack/runs/x"), a)]) == ()
    after = packed.read_bytes().splitlines(keepends=True)
    assert after[0] == b"# pack-refs with: peeled fully-peeled sorted \n"
    assert [line for line in after if b"refs/gittrack/" not in line] == before
    assert b"refs/heads/caf\xe9\n" in b"".join(after)
    names = [line.split(b" ", 1)[1] for line in after[1:] if not line.startswith(b"^")]
    assert names == sorted(names)
    git(repo, "fsck", "--no-dangling")
    assert git(repo, "rev-parse", "v1^{commit}") == git(repo, "rev-parse", "main")


def test_update_refs_applies_core_shared_repository(repo_obj: pygit2.Repository,
                                                    repo: Path) -> None:
    """git gives packed-refs the group's bits in a shared repository whatever the umask;
    without them, the other users' git cannot read any packed ref."""
    a = make_commit(repo_obj, "a")
    shared = pygit2.Repository(str(repo))

    def packed_mode(shared_repository: str, umask: int, ref: str) -> int:
        git(repo, "config", "core.sharedRepository", shared_repository)
        old = os.umask(umask)
        try:
            assert refs.update_refs(shared, [refs.RefUpdate(RefName(ref), a)]) == ()
        finally:
            os.umask(old)
        return stat.S_IMODE((repo / ".git" / "packed-refs").stat().st_mode)

    assert packed_mode("group", 0o077, "refs/gittrack/runs/x") == 0o660
    assert packed_mode("0640", 0o022, "refs/gittrack/runs/y") == 0o640


def test_update_ref_waits_for_a_locked_ref_then_refuses(
        repo_obj: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libgit2 fails at once on a `<ref>.lock` (pygit2: a bare OSError): a run's checkpoint
    while a pull or `git gc` holds the lock for a moment must wait as git does, and a lock
    that stays is a ConflictError naming the file, not an OSError out of `run.finish()`."""
    name = RefName("refs/gittrack/runs/busy")
    a, b, c = (make_commit(repo_obj, t) for t in "abc")
    refs.update_ref(repo_obj, name, a, None)
    lock = repo / ".git" / f"{name}.lock"
    lock.write_text("")
    timer = threading.Timer(0.03, lock.unlink)
    timer.start()
    refs.update_ref(repo_obj, name, b, a)  # waits for the other writer
    timer.join()
    assert refs.get_ref(repo_obj, name) == b
    lock.write_text("")
    with pytest.raises(ConflictError, match="locked by another process"):
        refs.update_ref(repo_obj, name, c, b)
    with pytest.raises(ConflictError, match="another process"):
        refs.delete_ref(repo_obj, name, b)
    assert lock.exists()
    lock.unlink()
    assert git(repo, "rev-parse", name).strip() == b


def test_delete_ref_of_a_packed_ref_while_packed_refs_is_locked(
        repo_obj: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libgit2's delete drops the ref from its packed-refs cache before it fails on a busy
    packed-refs.lock; deleting again then "succeeds" and the ref is still there. delete_ref
    is a transaction of ours instead: it waits for the lock, and deletes or refuses."""
    monkeypatch.setattr(packedrefs, "_LOCK_WAIT_S", 0.1)
    name = RefName("refs/gittrack/runs/packed")
    a = make_commit(repo_obj, "a")
    refs.update_ref(repo_obj, name, a, None)
    git(repo, "pack-refs", "--all")
    busy = repo / ".git" / "packed-refs.lock"
    busy.write_text("")
    with pytest.raises(ConflictError, match=r"packed-refs\.lock"):
        refs.delete_ref(repo_obj, name, a)
    timer = threading.Timer(0.03, busy.unlink)
    timer.start()
    refs.delete_ref(repo_obj, name, a)  # waits, as git does
    timer.join()
    assert refs.get_ref(pygit2.Repository(str(repo)), name) is None
    assert name not in _show_refs(repo)


def test_ref_writes_on_a_full_disk_are_repository_errors(small_disk: Path) -> None:
    path = small_disk / "project"
    git(small_disk, "init", "-q", str(path))
    r = pygit2.Repository(str(path))
    name = RefName("refs/gittrack/runs/full")
    a, b = make_commit(r, "a"), make_commit(r, "b")
    fill(small_disk)
    with pytest.raises(RepositoryError) as info:
        refs.update_ref(r, name, a, None)
    assert f"cannot write ref {name}" in str(info.value)
    assert "No space left on device" in str(info.value)
    unfill(small_disk)
    refs.update_ref(r, name, a, None)
    fill(small_disk)
    with pytest.raises(RepositoryError, match="No space left on device"):
        refs.update_ref(r, name, b, a)
    unfill(small_disk)
    assert refs.get_ref(r, name) == a  # as it was
    refs.update_ref(r, name, b, a)


def test_ref_writes_in_a_read_only_repository(repo_obj: pygit2.Repository, repo: Path) -> None:
    name = RefName("refs/gittrack/runs/ro")
    a, b = make_commit(repo_obj, "a"), make_commit(repo_obj, "b")
    refs.update_ref(repo_obj, name, a, None)
    with read_only(repo / ".git"):
        for write in (lambda: refs.update_ref(repo_obj, name, b, a),
                      lambda: refs.update_ref(repo_obj, RefName(name + "2"), b, None),
                      lambda: refs.delete_ref(repo_obj, name, a)):
            with pytest.raises(RepositoryError, match=f"{name}.*Read-only file system"):
                write()
    assert refs.get_ref(repo_obj, name) == a
    refs.delete_ref(repo_obj, name, a)


def test_list_refs_reads_files_as_libgit2_lists_them(repo_obj: pygit2.Repository,
                                                     repo: Path) -> None:
    """Packed and loose refs, a loose ref over its packed value, symbolic, broken and locked
    loose files: the direct read of the files (``packedrefs.list_prefixes``) lists what
    libgit2 lists, in name order."""
    a, b, c = (make_commit(repo_obj, t) for t in "abc")
    for name, commit in (("p1", a), ("p2", a), ("moved", a), ("gone/x", b)):
        refs.update_ref(repo_obj, RefName(f"refs/gittrack/runs/{name}"), commit, None)
    git(repo, "tag", "-a", "-m", "annotated", "v1")
    git(repo, "pack-refs", "--all")
    git(repo, "update-ref", "refs/gittrack/runs/moved", c)  # loose, over its packed value
    refs.update_ref(repo_obj, RefName("refs/gittrack/runs/loose/deep"), b, None)
    refs.update_ref(repo_obj, RefName("refs/gittrack/runsx"), b, None)  # not under runs/
    git(repo, "symbolic-ref", "refs/gittrack/runs/sym", "refs/gittrack/runs/p1")
    folder = repo / ".git" / "refs" / "gittrack" / "runs"
    (folder / "p3.lock").write_text(c + "\n")
    fresh = pygit2.Repository(str(repo))
    for prefix in ("refs/gittrack/runs/", "refs/gittrack/", "refs/", "refs/tags/",
                   "refs/gittrack/runs/lo", "refs/nothing/"):
        listed = refs.list_refs(fresh, prefix)
        assert listed == refs._list_libgit2(fresh, [prefix])[0], prefix
        assert list(listed) == sorted(listed)
    assert refs.list_refs(fresh, "refs/gittrack/runs/")["refs/gittrack/runs/moved"] == c
