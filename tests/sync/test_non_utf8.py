"""A repository, remote and branch whose names are not UTF-8 (a latin-1 file system): every
command works. Their bytes reach Python as lone surrogates (``os.fsdecode``), which UTF-8
encoders (pygit2, sqlite, ``write_text``) refused: init, add_dir, push, fetch, gc exited 70."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.repos import bare, git, make_repo


def latin1(base: Path, name: bytes) -> Path:
    return Path(os.fsdecode(os.fsencode(base) + b"/" + name))


def test_everything_under_names_that_are_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]
) -> None:
    repo = make_repo(latin1(tmp_path, b"lat\xe9"))
    remote = bare(latin1(tmp_path, b"bare\xe9"))
    branch = os.fsdecode(b"feat-caf\xe9")
    git(repo, "checkout", "-q", "-b", branch)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "config", f"branch.{branch}.remote", "origin")
    git(repo, "config", "user.name", os.fsdecode(b"Ren\xe9"))  # the runs' commits' author
    monkeypatch.chdir(repo)
    (repo / "d").mkdir()
    (repo / "d" / "a.bin").write_bytes(b"weights")
    run = gittrack.init(project="p")
    run.log({"loss": 1.0})
    artifact = gittrack.Artifact("model", "model")
    artifact.add_dir(repo / "d")
    run.log_artifact(artifact)
    run.finish()
    for command in (["--debug", "push"], ["fetch"], ["pull"], ["runs"], ["show", run.id], ["gc"]):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.stderr)
    for command in (["hooks", "install"], ["remote", "setup", "--push"], ["hooks", "uninstall"],
                    ["artifact", "get", "model:latest"], ["export", run.id, "-o", "out"],
                    ["export", "--json", run.id, "-o", "out2"], ["artifact", "ls"],
                    ["runs", "--json"]):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.stderr)
    shown = cli("show", "--json", run.id).stdout
    assert "feat-caf\\\\xe9" in shown  # the branch, recorded readably
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    monkeypatch.chdir(clone)
    assert cli("pull").exit_code == 0
    assert run.id in cli("runs").stdout


def test_a_remote_whose_name_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]
) -> None:
    """The branch's upstream remote named with latin-1 bytes: found by its bytes (pygit2
    refuses to decode such a config entry), set up and used; shown with ``\\xNN``."""
    repo = make_repo(tmp_path / "repo")
    remote = bare(tmp_path / "remote.git")
    name = os.fsdecode(b"r\xe9")
    git(repo, "remote", "add", name, str(remote))
    git(repo, "config", "branch.main.remote", name)
    monkeypatch.chdir(repo)
    run = gittrack.init(project="p")
    run.finish()
    setup = cli("remote", "setup")
    assert setup.exit_code == 0, setup.stderr
    assert "added remote.r\\xe9.fetch = " in setup.stdout
    pushed = cli("push")
    assert pushed.exit_code == 0, pushed.stderr
    git(repo, "fetch", "-q", name)
    assert cli("pull").exit_code == 0
    undone = cli("remote", "setup", "--undo")
    assert undone.exit_code == 0 and "removed remote.r\\xe9.fetch" in undone.stdout
