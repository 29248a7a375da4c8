"""The sync commands on a read-only ``.git`` and a full disk: a gittrack error naming the file
and the reason (never an internal error), nothing changed on the other side, and the command
works once the disk is writable again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.disks import fill, read_only, unfill
from tests.helpers.repos import MakeClone, fake_runs, git, refs_of
from tests.helpers.runs import marked_run


def refused(result: CliResult, reason: str) -> None:
    assert result.exit_code == 3, result.stderr + result.stdout
    assert "internal error" not in result.stderr and reason in result.stderr, result.stderr
    assert "cannot write" in result.stderr and "/.git" in result.stderr  # the file


@pytest.mark.parametrize("command", [["rm", "--yes"], ["rm", "--yes", "--remote", "origin"],
                                     ["purge", "--yes"]])
def test_deleting_on_a_read_only_git_folder_changes_nothing_anywhere(
        command: list[str], bare_remote: Path, make_clone: MakeClone,
        monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    run = marked_run()
    assert cli("push").exit_code == 0
    before_here, before_there = refs_of(a), refs_of(bare_remote)
    with read_only(a / ".git"):
        refused(cli(*command, run), "Read-only file system")
    assert refs_of(a) == before_here and refs_of(bare_remote) == before_there
    assert cli(*command, run).exit_code == 0  # writable again: it works
    git(a, "fsck", "--no-dangling")


def test_pull_into_a_read_only_git_folder(bare_remote: Path, make_clone: MakeClone,
                                          monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    marked_run()
    assert cli("push").exit_code == 0
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    git(b, "fetch", "-q", "origin", "refs/gittrack/*:refs/fetched/*")  # objects here already
    with read_only(b / ".git"):
        refused(cli("pull"), "Read-only file system")
    assert refs_of(b) == {}
    assert cli("pull").exit_code == 0 and refs_of(b) == refs_of(a)


def pushed_runs(remote: Path, tmp_path: Path, count: int) -> dict[str, str]:
    """``count`` fake runs pushed to ``remote`` from a clone ``a`` (which pushes a commit first:
    the remote starts empty)."""
    a = tmp_path / "a"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    git(a, "commit", "-q", "--allow-empty", "-m", "x")
    git(a, "push", "-q", "origin", "HEAD")
    made = fake_runs(a, count)
    git(a, "push", "-q", "origin", "refs/gittrack/*:refs/gittrack/*")
    return made


def test_pull_onto_a_full_disk(bare_remote: Path, small_disk: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    made = pushed_runs(bare_remote, tmp_path, 300)
    b = small_disk / "b"
    git(tmp_path, "clone", "-q", str(bare_remote), str(b))
    git(b, "fetch", "-q", "origin", "refs/gittrack/*:refs/fetched/*")  # objects here already
    monkeypatch.chdir(b)
    fill(small_disk)
    result = cli("pull")
    assert result.exit_code == 3, result.stderr + result.stdout
    assert "internal error" not in result.stderr
    assert "No space left on device" in result.stderr and "packed-refs" in result.stderr
    assert refs_of(b) == {}  # one transaction: nothing half-written
    unfill(small_disk)
    assert cli("pull").exit_code == 0 and refs_of(b) == made
    git(b, "fsck", "--no-dangling")


def objects_on(disk: Path, clone: Path) -> None:
    """Move ``clone``'s object database onto ``disk`` (its refs and gittrack's state stay)."""
    objects = clone / ".git" / "objects"
    shutil.move(objects, disk / "objects")
    objects.symlink_to(disk / "objects")


def test_pull_with_no_room_for_the_objects(bare_remote: Path, small_disk: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    # git fetch itself fails to write the objects: the local disk, not the transport (exit 3)
    made = pushed_runs(bare_remote, tmp_path, 50)
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", "--no-local", str(bare_remote), str(b))  # no run objects
    objects_on(small_disk, b)
    monkeypatch.chdir(b)
    fill(small_disk)
    result = cli("pull")
    assert result.exit_code == 3, result.stderr + result.stdout
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr
    assert refs_of(b) == {}
    unfill(small_disk)
    assert cli("pull").exit_code == 0 and refs_of(b) == made
    git(b, "fsck", "--no-dangling")
