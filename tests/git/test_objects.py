from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from gittrack.errors import FormatError, RepositoryError
from gittrack.git import objects
from gittrack.types import CommitId
from tests.helpers.disks import fill, read_only, unfill
from tests.helpers.repos import git


@pytest.fixture
def repo_obj(repo: Path) -> pygit2.Repository:
    return pygit2.Repository(str(repo))


def test_write_tree_adds_replaces_and_removes(repo_obj: pygit2.Repository, repo: Path) -> None:
    first = repo_obj[objects.write_tree(repo_obj, None, {
        "run.yaml": b"a", "history/000000.parquet": b"h0", "deep/er/x": b"x"})]
    assert isinstance(first, pygit2.Tree)
    second = repo_obj[objects.write_tree(repo_obj, first, {
        "run.yaml": b"b", "history/000001.parquet": b"h1", "deep/er/x": None,
        "missing/file": None, "gone": None})]
    assert isinstance(second, pygit2.Tree)
    assert objects.read_file(repo_obj, second, "run.yaml") == b"b"
    assert list(objects.list_files(repo_obj, second, "history")) == [
        "000000.parquet", "000001.parquet"]
    assert objects.read_file(repo_obj, second, "history/000000.parquet") == b"h0"
    assert "deep" not in second  # an emptied folder disappears
    assert "missing" not in second
    # the first tree is untouched (trees are immutable)
    assert objects.read_file(repo_obj, first, "run.yaml") == b"a"
    assert objects.read_file(repo_obj, first, "deep/er/x") == b"x"


def test_write_tree_moves_an_existing_blob_and_lists_folders(
    repo_obj: pygit2.Repository
) -> None:
    first = repo_obj[objects.write_tree(repo_obj, None, {"h/0/a": b"a", "h/1/b": b"b"})]
    assert isinstance(first, pygit2.Tree)
    assert objects.list_folders(repo_obj, first, "h") == ["0", "1"]
    blob = objects.entry_id(first, "h/0/a")
    assert blob is not None
    second = repo_obj[objects.write_tree(repo_obj, first, {
        "h/0/a": None, "h/final/a": objects.Existing(blob)})]
    assert isinstance(second, pygit2.Tree)
    assert objects.list_folders(repo_obj, second, "h") == ["1", "final"]
    assert objects.entry_id(second, "h/final/a") == blob
    assert objects.list_folders(repo_obj, second, "none") == []
    with pytest.raises(FormatError, match="h/1/b is a blob, not a folder"):
        objects.list_folders(repo_obj, second, "h/1/b")


def test_commit_does_not_touch_head_index_or_work_tree(
    repo_obj: pygit2.Repository, repo: Path
) -> None:
    head_before = git(repo, "rev-parse", "HEAD")
    status_before = git(repo, "status", "--porcelain")
    tree = objects.write_tree(repo_obj, None, {"a": b"1"})
    c1 = objects.commit(repo_obj, tree, [], "first")
    c2 = objects.commit(repo_obj, objects.write_tree(repo_obj, objects.commit_tree(repo_obj, c1),
                                                     {"b": b"2"}), [c1], "second")
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert git(repo, "status", "--porcelain") == status_before
    assert git(repo, "rev-parse", f"{c2}^").strip() == c1
    assert git(repo, "show", f"{c2}:b") == "2"
    assert git(repo, "log", "-1", "--format=%an <%ae>", c2).strip() == \
        "Test Author <author@example.com>"


def test_signature_falls_back_to_a_neutral_identity(
    repo_obj: pygit2.Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_AUTHOR_NAME")
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    sig = objects.signature(repo_obj)
    assert sig.name and sig.email


def test_signature_uses_the_repository_identity(repo_obj: pygit2.Repository, repo: Path) -> None:
    git(repo, "config", "user.name", "Repo User")
    git(repo, "config", "user.email", "repo@example.com")
    sig = objects.signature(pygit2.Repository(str(repo)))
    assert (sig.name, sig.email) == ("Repo User", "repo@example.com")


def test_a_signature_that_is_not_utf8_is_escaped(
    repo_obj: pygit2.Repository, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A latin-1 ``user.name`` (pygit2 raised UnicodeDecodeError: no run could commit) or
    ``GIT_AUTHOR_NAME`` (UnicodeEncodeError): written as ``\\xNN`` text, commits stay UTF-8."""
    git(repo, "config", "user.name", os.fsdecode(b"Ren\xe9"))
    git(repo, "config", "user.email", os.fsdecode(b"r\xe9@example.com"))
    sig = objects.signature(pygit2.Repository(str(repo)))
    assert (sig.name, sig.email) == ("Ren\\xe9", "r\\xe9@example.com")
    git(repo, "config", "--unset", "user.name")
    monkeypatch.setenv("GIT_AUTHOR_NAME", os.fsdecode(b"Ana\xe9"))
    assert objects.signature(pygit2.Repository(str(repo))).name == "Ana\\xe9"


def test_read_file_and_list_files_of_missing_paths(repo_obj: pygit2.Repository) -> None:
    tree = repo_obj[objects.write_tree(repo_obj, None, {"dir/f": b"1", "top": b"2"})]
    assert isinstance(tree, pygit2.Tree)
    assert objects.read_file(repo_obj, tree, "nope") is None
    assert list(objects.list_files(repo_obj, tree, "nope")) == []


def test_a_folder_where_a_file_should_be_is_a_format_error(repo_obj: pygit2.Repository) -> None:
    # forged or damaged data: reported, never read as "no such file"
    tree = repo_obj[objects.write_tree(repo_obj, None, {"dir/f": b"1", "top": b"2"})]
    assert isinstance(tree, pygit2.Tree)
    with pytest.raises(FormatError, match="dir is a tree, not a file"):
        objects.read_file(repo_obj, tree, "dir")
    with pytest.raises(FormatError, match="top is a blob, not a folder"):
        list(objects.list_files(repo_obj, tree, "top"))


def test_missing_objects_are_repository_errors_naming_them(
    repo_obj: pygit2.Repository
) -> None:
    blob = repo_obj.create_blob(b"gone")
    tree = repo_obj[objects.write_tree(repo_obj, None, {"top": b"gone"})]
    assert isinstance(tree, pygit2.Tree)
    commit = objects.commit(repo_obj, tree.id, [], "m")
    loose = Path(repo_obj.path) / "objects" / str(blob)[:2] / str(blob)[2:]
    loose.unlink()
    with pytest.raises(RepositoryError, match=f"cannot read top: git object {blob} is missing"):
        objects.read_file(repo_obj, tree, "top")
    other = CommitId(str(repo_obj.create_blob(b"other")))
    with pytest.raises(FormatError, match=rf"{other[:12]} is a blob, not a commit"):
        objects.commit_tree(repo_obj, other)
    with pytest.raises(RepositoryError, match=f"commit {'0' * 12}: git object 0{{40}} is"):
        objects.commit_tree(repo_obj, CommitId("0" * 40))
    assert objects.commit_tree(repo_obj, commit).id == tree.id


# -- writes on a full or read-only disk ------------------------------------------------------
def repo_on_small_disk(small_disk: Path) -> pygit2.Repository:
    path = small_disk / "project"
    git(small_disk, "init", "-q", str(path))
    return pygit2.Repository(str(path))


@pytest.mark.parametrize("size", [10, 600_000])  # libgit2 streams large blobs: "no error"
def test_a_full_disk_is_a_repository_error_naming_the_object_and_the_reason(
    small_disk: Path, size: int
) -> None:
    r = repo_on_small_disk(small_disk)
    fill(small_disk)
    with pytest.raises(RepositoryError) as info:
        objects.write_tree(r, None, {"big.bin": os.urandom(size)})
    message = str(info.value)
    assert "No space left on device" in message, message
    assert f"a blob of {size:,} bytes" in message and str(small_disk / "project") in message
    unfill(small_disk)
    tree = objects.write_tree(r, None, {"big.bin": b"x" * size})
    assert objects.read_file(r, r[tree], "big.bin") == b"x" * size  # type: ignore[arg-type]


def test_commits_on_a_full_disk(small_disk: Path) -> None:
    r = repo_on_small_disk(small_disk)
    tree = objects.write_tree(r, None, {"a": b"a"})
    fill(small_disk)
    with pytest.raises(RepositoryError, match=r"cannot write a commit .*No space left on device"):
        objects.commit(r, tree, [], os.urandom(8192).hex())
    unfill(small_disk)
    first = objects.commit(r, tree, [], "m")
    other = objects.write_tree(r, None, {"b": b"b"})
    fill(small_disk)
    with pytest.raises(RepositoryError, match=r"cannot write a commit .*No space left on device"):
        objects.recommit(r, first, [], other)  # pygit2 returned an id, wrote nothing
    unfill(small_disk)
    again = objects.recommit(r, first, [], other)
    assert git(small_disk / "project", "cat-file", "-t", again).strip() == "commit"


def test_a_read_only_objects_folder(repo_obj: pygit2.Repository, repo: Path) -> None:
    with read_only(repo / ".git" / "objects"), \
            pytest.raises(RepositoryError, match=r"a blob of 3 bytes.*Read-only file system"):
        objects.write_tree(repo_obj, None, {"a": b"new"})
    assert objects.write_tree(repo_obj, None, {"a": b"new"})


@pytest.mark.parametrize("content", [b"", b"a\n", b"row,1.5\n" * 100_000,
                                     os.urandom(300_000), b"p" * objects._PIECE,
                                     os.urandom(2 * objects._PIECE + 7)],
                         ids=["empty", "small", "text", "noise", "one-piece", "pieces"])
def test_a_blob_is_the_object_git_writes(
    repo_obj: pygit2.Repository, repo: Path, content: bytes
) -> None:
    """Blobs are written without libgit2 (which keeps the GIL): the same id, a loose object
    git reads and checks, read-only; written once."""
    oid = objects.create_blob(repo_obj, content)
    assert str(oid) == objects.blob_id(content)
    assert subprocess.run(["git", "hash-object", "--stdin"], cwd=repo, input=content,
                          capture_output=True, check=True).stdout.decode().strip() == str(oid)
    path = repo / ".git" / "objects" / str(oid)[:2] / str(oid)[2:]
    assert path.stat().st_mode & 0o222 == 0
    assert git(repo, "cat-file", "-s", str(oid)).strip() == str(len(content))
    tree = objects.write_tree(repo_obj, None, {"big": content})
    assert objects.read_file(repo_obj, repo_obj[tree], "big") == content  # type: ignore[arg-type]
    assert repo_obj[oid].data == content  # type: ignore[attr-defined]
    git(repo, "fsck", "--strict", "--no-dangling")
    before = path.stat().st_mtime_ns
    assert objects.create_blob(repo_obj, content) == oid  # present: not written again
    assert path.stat().st_mtime_ns == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
