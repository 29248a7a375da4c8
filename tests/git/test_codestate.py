from __future__ import annotations

import os
from pathlib import Path

import pygit2
import pytest

from gittrack.git.codestate import Uncommitted, code_state, is_ignored, uncommitted
from gittrack.git.namespace import is_valid_ref_component
from tests.helpers.code import BINARY, apply_on_clean_checkout, make_dirty, work_files
from tests.helpers.repos import git, make_repo


def test_clean_repository(repo: Path) -> None:
    state = code_state(pygit2.Repository(str(repo)))
    assert state.commit == git(repo, "rev-parse", "HEAD").strip()
    assert state.branch == "main"
    assert state.remote is None
    assert state.dirty is False
    assert state.to_dict() == {"commit": state.commit, "branch": "main", "remote": None,
                               "dirty": False}


def test_dirty_tracked_file_but_not_untracked(repo: Path) -> None:
    (repo / "untracked.txt").write_text("x")
    assert code_state(pygit2.Repository(str(repo))).dirty is False
    (repo / "train.py").write_text("changed\n")
    assert code_state(pygit2.Repository(str(repo))).dirty is True


def test_staged_change_is_dirty(repo: Path) -> None:
    (repo / "new.py").write_text("x")
    git(repo, "add", "new.py")
    assert code_state(pygit2.Repository(str(repo))).dirty is True


def test_detached_head(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach")
    state = code_state(pygit2.Repository(str(repo)))
    assert state.branch is None
    assert state.commit == sha


def test_no_commits_yet(tmp_path: Path) -> None:
    path = make_repo(tmp_path / "empty", commit=False)
    state = code_state(pygit2.Repository(str(path)))
    assert state.commit is None
    assert state.branch == "main"


def test_remote_without_credentials(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://bob:secret@example.com/team/proj.git")
    state = code_state(pygit2.Repository(str(repo)))
    assert state.remote == "https://example.com/team/proj.git"
    git(repo, "remote", "add", "origin", "git@example.com:me/proj.git")
    assert code_state(pygit2.Repository(str(repo))).remote == "git@example.com:me/proj.git"
    git(repo, "config", "branch.main.remote", "upstream")
    assert code_state(pygit2.Repository(str(repo))).remote == "https://example.com/team/proj.git"


def test_bare_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "b.git")
    state = code_state(pygit2.Repository(str(tmp_path / "b.git")))
    assert state.dirty is None and state.commit is None


@pytest.mark.parametrize("name", ["abc", "01hx", "my-run_1.2", "A" * 128])
def test_valid_ref_components(name: str) -> None:
    assert is_valid_ref_component(name)


@pytest.mark.parametrize("name", ["", ".hidden", "-x", "a/b", "a..b", "a.lock", "a.", "a b",
                                  "a~1", "a:b", "A" * 129, "ä"])
def test_invalid_ref_components(name: str) -> None:
    assert not is_valid_ref_component(name)


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://u:pw@h:99999/x", "https://h:99999/x"), ("https://h:abc/x", "https://h:abc/x"),
     ("https://user:pw@[::1]:8080/x", "https://[::1]:8080/x")],
)
def test_remote_with_a_bad_port_or_ipv6_host_is_recorded(repo: Path, url: str,
                                                          expected: str) -> None:
    """A bad port once made ``init()`` raise ValueError (from ``urlsplit().port``)."""
    git(repo, "remote", "add", "origin", url)
    assert code_state(pygit2.Repository(str(repo))).remote == expected


def test_a_remote_fragment_or_session_never_reaches_git_objects(repo: Path) -> None:
    """``https://host/r#SECRETX`` was recorded as is in run.yaml, which is pushed."""
    from tests.helpers.processes import run_python

    git(repo, "remote", "add", "origin", "https://host/r?sessionid=SECRETS#SECRETX")
    assert code_state(pygit2.Repository(str(repo))).remote == "https://host/r"
    run_python("import gittrack\nrun = gittrack.init(project='p')\nrun.log({'a': 1})\n"
               "run.finish()\n", cwd=repo)
    from tests.helpers.repos import git_objects_contain

    assert git_objects_contain(repo, b"host/r")  # the run was recorded, with its remote
    assert not git_objects_contain(repo, b"SECRETX")
    assert not git_objects_contain(repo, b"SECRETS")


def test_a_branch_and_remote_that_are_not_utf8(repo: Path, tmp_path: Path) -> None:
    """git names are bytes: ``feat-caf\\xe9`` reaches Python as a lone surrogate, and its
    config lookup must send libgit2 the same bytes (it raised UnicodeEncodeError)."""
    branch, remote = os.fsdecode(b"feat-caf\xe9"), "up"
    git(repo, "checkout", "-q", "-b", branch)
    git(repo, "remote", "add", "origin", str(tmp_path / "o.git"))
    git(repo, "remote", "add", remote, os.fsdecode(os.fsencode(tmp_path) + b"/up\xe9.git"))
    git(repo, "config", f"branch.{branch}.remote", remote)
    state = code_state(pygit2.Repository(str(repo)))
    assert state.branch == branch
    assert state.remote == os.fsdecode(os.fsencode(tmp_path) + b"/up\xe9.git")


# -- uncommitted(): the patch save_code stores --------------------------------------------------


def test_the_patch_rebuilds_the_work_tree_on_a_clean_checkout(repo: Path, tmp_path: Path) -> None:
    secret = make_dirty(repo)
    index_before = (repo / ".git" / "index").read_bytes()
    found = uncommitted(pygit2.Repository(str(repo)), max_file=1 << 20, scratch=tmp_path / "s")
    assert found.skipped == ()
    assert b"GIT binary patch" in found.patch and secret not in found.patch
    copy = apply_on_clean_checkout(repo, git(repo, "rev-parse", "HEAD").strip(), found.patch,
                                   tmp_path / "copy")
    assert work_files(copy) == work_files(repo, skip=("secret.env",))
    assert (copy / "data.bin").read_bytes() == BINARY and not (copy / "gone.txt").exists()
    # the user's index is untouched: untracked files stay untracked, the staged file staged
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert "?? data.bin" in git(repo, "status", "--short")
    assert not list((tmp_path / "s").iterdir())  # the temporary index is removed


def test_a_clean_tree_gives_an_empty_patch(repo: Path, tmp_path: Path) -> None:
    found = uncommitted(pygit2.Repository(str(repo)), max_file=100, scratch=tmp_path)
    assert found == Uncommitted(patch=b"", skipped=())


def test_untracked_files_over_the_bound_are_left_out(repo: Path, tmp_path: Path) -> None:
    (repo / "small.txt").write_text("x\n")
    (repo / "big.bin").write_bytes(b"\1" * 101)
    found = uncommitted(pygit2.Repository(str(repo)), max_file=100, scratch=tmp_path)
    assert found.skipped == ("big.bin",)
    assert b"b/small.txt" in found.patch and b"big.bin" not in found.patch


def test_a_repository_without_commits(tmp_path: Path) -> None:
    path = make_repo(tmp_path / "empty", commit=False)
    (path / "first.py").write_text("x = 1\n")
    found = uncommitted(pygit2.Repository(str(path)), max_file=100, scratch=tmp_path / "s")
    assert b"+++ b/first.py" in found.patch and b"+x = 1" in found.patch


def test_user_diff_config_does_not_change_the_patch(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text("changed\n")
    for key, value in (("diff.noprefix", "true"), ("diff.external", "false"),
                       ("color.ui", "always"), ("diff.mnemonicPrefix", "true")):
        git(repo, "config", key, value)
    found = uncommitted(pygit2.Repository(str(repo)), max_file=100, scratch=tmp_path)
    assert b"--- a/train.py\n+++ b/train.py\n" in found.patch and b"\x1b[" not in found.patch


def test_is_ignored(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.env\n")
    (repo / "x.env").write_text("s")
    r = pygit2.Repository(str(repo))
    assert is_ignored(r, repo / "x.env") and not is_ignored(r, repo / "train.py")


def test_hostile_file_names_round_trip(repo: Path, tmp_path: Path) -> None:
    names = [b"new\nline.txt", b"tab\there.txt", b"quote\"d.txt", b"latin-\xe9.txt",
             b"-starts-with-dash.txt", b":(glob)*.txt"]
    for name in names:
        (repo / os.fsdecode(name)).write_bytes(b"content of " + name + b"\n")
    found = uncommitted(pygit2.Repository(str(repo)), max_file=1000, scratch=tmp_path / "s")
    copy = apply_on_clean_checkout(repo, git(repo, "rev-parse", "HEAD").strip(), found.patch,
                                   tmp_path / "copy")
    for name in names:
        assert (copy / os.fsdecode(name)).read_bytes() == b"content of " + name + b"\n"


def test_a_linked_worktree_uses_its_own_index(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", str(tmp_path / "other"), "-b", "other")
    other = tmp_path / "other"
    (other / "staged.py").write_text("in the other worktree\n")
    git(other, "add", "staged.py")
    (repo / "main-only.txt").write_text("not here\n")
    found = uncommitted(pygit2.Repository(str(other)), max_file=1000, scratch=tmp_path / "s")
    assert b"+++ b/staged.py" in found.patch and b"main-only" not in found.patch
    assert git(other, "status", "--short") == "A  staged.py\n"
