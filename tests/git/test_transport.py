"""git/transport.py against real remotes: a path, file://, git:// (git daemon) and ssh://."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gittrack.errors import PushRejectedError, TransportError, UsageError
from gittrack.git import transport
from gittrack.git.command import git_env
from tests.helpers.repos import bare, git, make_repo


@pytest.fixture(params=["path", "file", "git", "ssh"])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "path":
        return str(bare(tmp_path / "r.git"))
    if request.param == "file":
        return f"file://{bare(tmp_path / 'r.git')}"
    if request.param == "git":
        return str(request.getfixturevalue("daemon_remote"))
    return str(request.getfixturevalue("ssh_remote"))


def test_push_ls_remote_fetch_on_every_transport(repo: Path, remote_url: str,
                                                 tmp_path: Path) -> None:
    git(repo, "update-ref", "refs/gittrack/runs/r1", "HEAD")
    git(repo, "remote", "add", "origin", remote_url)
    local = pygit2.Repository(str(repo))
    result = transport.push(local, "origin", ["refs/gittrack/runs/r1:refs/gittrack/runs/r1"],
                            leases={"refs/gittrack/runs/r1": None})
    assert result.updated == ("refs/gittrack/runs/r1",)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert transport.ls_remote(local, "origin") == {"refs/gittrack/runs/r1": head}
    again = transport.push(local, "origin", ["refs/gittrack/runs/r1:refs/gittrack/runs/r1"])
    assert again.up_to_date == ("refs/gittrack/runs/r1",) and not again.updated

    other = pygit2.Repository(str(make_repo(tmp_path / "other", commit=False)))
    transport.fetch(other, remote_url, ["+refs/gittrack/*:refs/mirror/*"])
    assert str(other.references["refs/mirror/runs/r1"].target) == head


def test_a_rejection_names_the_refs_and_the_hook(repo: Path, bare_remote: Path) -> None:
    hook = bare_remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'runs are frozen today' >&2\nexit 1\n")
    hook.chmod(0o755)
    git(repo, "update-ref", "refs/gittrack/runs/r1", "HEAD")
    local = pygit2.Repository(str(repo))
    with pytest.raises(PushRejectedError) as caught:
        transport.push(local, str(bare_remote), ["refs/gittrack/runs/r1:refs/gittrack/runs/r1"])
    assert caught.value.refs == ("refs/gittrack/runs/r1",)
    assert "runs are frozen today" in str(caught.value)
    assert transport.ls_remote(local, str(bare_remote)) == {}


def test_a_lease_refuses_a_ref_someone_else_moved(repo: Path, bare_remote: Path) -> None:
    local = pygit2.Repository(str(repo))
    git(repo, "update-ref", "refs/gittrack/runs/r1", "HEAD")
    spec = ["refs/gittrack/runs/r1:refs/gittrack/runs/r1"]
    transport.push(local, str(bare_remote), spec)
    git(repo, "commit", "-q", "--allow-empty", "-m", "next")
    git(repo, "update-ref", "refs/gittrack/runs/r1", "HEAD")
    with pytest.raises(PushRejectedError, match="stale info"):
        transport.push(local, str(bare_remote), spec, leases={"refs/gittrack/runs/r1": None})
    result = transport.push(local, str(bare_remote), spec, check=False,
                            leases={"refs/gittrack/runs/r1": None})
    assert result.rejected == ("refs/gittrack/runs/r1",)


def test_a_lease_holds_for_a_forced_refspec_too(repo: Path, bare_remote: Path) -> None:
    """git 2.39 ignores the lease of a ``+`` refspec; ``push`` drops the ``+`` of leased ones."""
    local = pygit2.Repository(str(repo))
    old = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "commit", "-q", "--allow-empty", "-m", "theirs")
    theirs = git(repo, "rev-parse", "HEAD").strip()
    transport.push(local, str(bare_remote), [f"{theirs}:refs/gittrack/runs/r1"])
    git(repo, "commit", "-q", "--allow-empty", "-m", "mine")
    spec = [f"+{old}:refs/gittrack/runs/r1"]
    with pytest.raises(PushRejectedError, match="stale info"):
        transport.push(local, str(bare_remote), spec, leases={"refs/gittrack/runs/r1": old})
    assert transport.ls_remote(local, str(bare_remote))["refs/gittrack/runs/r1"] == theirs
    result = transport.push(local, str(bare_remote), spec,
                            leases={"refs/gittrack/runs/r1": theirs})
    assert result.updated == ("refs/gittrack/runs/r1",)  # the lease allows the rewind
    assert transport.ls_remote(local, str(bare_remote))["refs/gittrack/runs/r1"] == old


def test_fetch_objects_writes_no_ref(repo: Path, bare_remote: Path, tmp_path: Path) -> None:
    git(repo, "update-ref", "refs/gittrack/runs/r1", "HEAD")
    local = pygit2.Repository(str(repo))
    transport.push(local, str(bare_remote), ["refs/gittrack/runs/r1:refs/gittrack/runs/r1"])
    other = pygit2.Repository(str(make_repo(tmp_path / "other", commit=False)))
    head = git(repo, "rev-parse", "HEAD").strip()
    transport.fetch_objects(other, str(bare_remote), [head])
    assert head in other and list(other.references) == []
    assert not (Path(other.path) / "FETCH_HEAD").exists()


def test_unreachable_remote_is_a_transport_error(repo: Path, tmp_path: Path) -> None:
    local = pygit2.Repository(str(repo))
    with pytest.raises(TransportError) as caught:
        transport.ls_remote(local, str(tmp_path / "nowhere.git"))
    assert caught.value.exit_code == 10 and "nowhere.git" in str(caught.value)


def test_default_remote(repo: Path) -> None:
    local = pygit2.Repository(str(repo))
    with pytest.raises(UsageError, match="git remote add"):
        transport.default_remote(local)
    git(repo, "remote", "add", "upstream", "/x")
    assert transport.default_remote(local) == "upstream"
    git(repo, "remote", "add", "origin", "/y")
    assert transport.default_remote(local) == "origin"
    git(repo, "config", "branch.main.remote", "upstream")
    assert transport.default_remote(local) == "upstream"


def test_default_remote_of_a_branch_and_remote_that_are_not_utf8(repo: Path) -> None:
    """Names git keeps as bytes come back as lone surrogates; looking them up raised
    UnicodeEncodeError (every push, fetch, gc on such a branch exited 70)."""
    branch, name = os.fsdecode(b"feat-caf\xe9"), "up"
    git(repo, "checkout", "-q", "-b", branch)
    git(repo, "remote", "add", "origin", "/y")
    git(repo, "remote", "add", name, os.fsdecode(b"/x\xe9"))
    local = pygit2.Repository(str(repo))
    assert transport.default_remote(local) == "origin"
    git(repo, "config", f"branch.{branch}.remote", name)
    assert transport.default_remote(local) == name
    assert transport.remote_url(local, name) == os.fsdecode(b"/x\xe9")
    # a remote whose name is not UTF-8, as upstream too
    git(repo, "remote", "rename", name, os.fsdecode(b"up\xe9"))
    git(repo, "config", f"branch.{branch}.remote", os.fsdecode(b"up\xe9"))
    assert transport.default_remote(local) == os.fsdecode(b"up\xe9")
    assert transport.remote_url(local, os.fsdecode(b"up\xe9")) == os.fsdecode(b"/x\xe9")


def test_remote_url_strips_credentials(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://me:token@example.com/x.git")
    assert transport.remote_url(pygit2.Repository(str(repo)), "origin") == \
        "https://example.com/x.git"


def test_git_env_drops_what_names_a_repository() -> None:
    env = git_env({"GIT_DIR": "/a", "GIT_INDEX_FILE": "i", "GIT_WORK_TREE": "w",
                             "GIT_SSH_COMMAND": "ssh -i k", "GIT_CONFIG_NOSYSTEM": "1",
                             "GIT_TRACE": "1", "PATH": "/bin"})
    assert env == {"GIT_SSH_COMMAND": "ssh -i k", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TRACE": "1",
                   "PATH": "/bin"}


def test_porcelain_parsing() -> None:
    out = ("To /r.git\n*\trefs/a:refs/a\t[new reference]\n=\trefs/b:refs/b\t[up to date]\n"
           "!\trefs/c:refs/c\t[rejected] (stale info)\n-\t:refs/d\t[deleted]\nDone\n")
    result = transport.parse_porcelain(out)
    assert result.updated == ("refs/a", "refs/d") and result.up_to_date == ("refs/b",)
    assert result.rejected == ("refs/c",) and "stale info" in result.reasons["refs/c"]


def test_remote_url_with_a_bad_port_never_raises(repo: Path) -> None:
    """``push`` named the remote through ``urlsplit().port`` and exited 70 on a bad port."""
    git(repo, "remote", "add", "origin", "https://u:SECRET@h:99999/x")
    assert transport.remote_url(pygit2.Repository(str(repo)), "origin") == "https://h:99999/x"


HOSTILE = ["--upload-pack=touch {marker}; echo x://", "-u touch {marker} x://",
           "--receive-pack=touch {marker}", "ext::sh -c touch% {marker}",
           "fd::3", "-oProxyCommand=touch {marker}"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_remote_argument_is_never_an_option_or_a_command(repo: Path, tmp_path: Path,
                                                          hostile: str) -> None:
    marker = tmp_path / "pwned"
    remote = hostile.format(marker=marker)
    local = pygit2.Repository(str(repo))
    git(repo, "config", "protocol.ext.allow", "always")  # even where git itself would run it
    with pytest.raises(UsageError, match="remote"):
        transport.check_remote(local, remote)
    calls = [lambda: transport.ls_remote(local, remote),
             lambda: transport.fetch(local, remote, ["refs/gittrack/*:refs/x/*"]),
             lambda: transport.fetch_objects(local, remote, ["0" * 40]),
             lambda: transport.push(local, remote, ["HEAD:refs/heads/x"])]
    for call in calls:
        with pytest.raises(UsageError):
            call()
    assert not marker.exists()


def test_the_cli_never_runs_a_remote_argument(repo: Path, tmp_path: Path, cli: Any) -> None:
    from tests.helpers.runs import marked_run

    marker = tmp_path / "pwned"
    hostile = f"--upload-pack=touch {marker}; echo x://"
    run = marked_run()
    for command in (["fetch", "--"], ["pull", "--"], ["push", "--"], ["gc", "--remote"],
                    ["rm", "--yes", "--remote"], ["purge", "--yes", "--remote"]):
        result = cli(*command, hostile, run) if command[0] in ("rm", "purge") else \
            cli(*command, hostile)
        assert result.exit_code == 2, (command, result.stderr)
        assert "traceback" not in result.stderr.lower()
    assert not marker.exists()
