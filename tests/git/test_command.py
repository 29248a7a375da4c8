"""One runner for the ``git`` command line: the caller names the error a failure is."""

from __future__ import annotations

from pathlib import Path

import pytest

from gittrack.errors import ConflictError, RepositoryError, TransportError
from gittrack.git import command, config
from gittrack.git.repo import Repository


def test_a_failure_is_the_error_the_caller_names(repo: Path) -> None:
    r = Repository(str(repo))
    with pytest.raises(ConflictError, match=r"asking git failed: .*no-such-command"):
        command.run(r, ["no-such-command"], what="asking git", error=ConflictError)
    done = command.run(r, ["no-such-command"], what="asking git", error=ConflictError,
                       check=False)
    assert done.returncode != 0


def test_git_dir_mode_runs_on_the_object_database(repo: Path) -> None:
    r = Repository(str(repo))
    done = command.run(r, ["rev-parse", "--git-dir"], what="x", error=RepositoryError,
                       git_dir=True)
    assert Path(done.stdout.strip()).resolve() == (repo / ".git").resolve()


def test_a_config_write_that_fails_is_this_repository_s_error_not_transport(
        repo: Path) -> None:
    r = Repository(str(repo))
    lock = repo / ".git" / "config.lock"
    lock.write_text("")  # a stale lock: git refuses to write the config
    with pytest.raises(RepositoryError) as caught:
        config.write(r, ["gittrack.prePush", "code"], what="setting gittrack.prePush")
    assert not isinstance(caught.value, TransportError)
    lock.unlink()
    config.write(r, ["gittrack.prePush", "code"], what="setting gittrack.prePush")
    assert config.value(r, "gittrack.prePush") == "code"


def test_config_reads_are_typed_and_never_raise(repo: Path) -> None:
    r = Repository(str(repo))
    assert config.value(r, "gittrack.unset") is None
    assert config.values(r, "gittrack.unset") == []
    assert not config.flag(r, "gittrack.hookStrict")
    config.write(r, ["gittrack.hookStrict", "yes"], what="x")
    config.write(r, ["gittrack.notBool", "maybe"], what="x")
    assert config.flag(r, "gittrack.hookStrict") and not config.flag(r, "gittrack.notBool")
    assert config.value(r, "not a valid name") is None
