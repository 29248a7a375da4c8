"""Push and pull decisions: selection, divergence kept both ways, --force, remote setup,
and every transport (git://, ssh://) through the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import MakeClone, git, refs_of
from tests.helpers.runs import log_run
from tests.helpers.storage import share_storage


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return str(result.stdout)


@pytest.mark.parametrize("transport", ["daemon_remote", "ssh_remote"])
def test_push_and_pull_over_network_transports(
        transport: str, request: pytest.FixtureRequest, make_clone: MakeClone,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object],
        cli: Any) -> None:
    url = str(request.getfixturevalue(transport))
    a = make_clone("a", url)
    share_storage(a, str(tmp_path / "store"))
    log_run(a, fast_settings)
    monkeypatch.chdir(a)
    assert "sent 1 run, 1 artifact, 1 alias" in ok(cli("push"))
    b = make_clone("b", url)
    monkeypatch.chdir(b)
    assert "updated 1 run, 1 artifact, 1 alias" in ok(cli("pull"))
    assert refs_of(a) == refs_of(b)


def test_push_selected_runs_with_their_artifacts(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    first = log_run(a, fast_settings, name="one")
    log_run(a, fast_settings, name="two")
    monkeypatch.chdir(a)
    assert "sent 1 run, 1 artifact, 1 alias" in ok(cli("push", first[:10]))
    assert set(refs_of(bare_remote)) == {f"refs/gittrack/runs/{first}",
                                         "refs/gittrack/artifacts/one",
                                         "refs/gittrack/aliases/one/best"}
    assert "(dry run) sent 1 run, 1 artifact, 1 alias" in ok(cli("push", "--dry-run"))
    assert set(refs_of(bare_remote)) != set(refs_of(a))
    ok(cli("push", "origin"))
    assert refs_of(bare_remote) == refs_of(a)


def test_diverged_artifact_is_held_then_rebased_by_pull(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    """Versions logged on both sides: push holds ours back and says to pull; pull puts ours
    on top of the remote's (tests/sync/test_concurrent_versions.py has the whole story)."""
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "store"))
    log_run(a, fast_settings, data="v0\n")
    monkeypatch.chdir(a)
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("pull"))
    log_run(b, fast_settings, data="from b\n")
    ok(cli("push"))
    from_b = refs_of(b)["refs/gittrack/artifacts/data"]

    log_run(a, fast_settings, data="from a\n")  # someone else moved the remote's ref
    monkeypatch.chdir(a)
    result = cli("push")
    assert result.exit_code == 5 and "not sent: artifact data" in result.stdout
    assert "`gittrack pull origin` puts yours on top" in result.stdout
    assert "sent 1 run" in result.stdout  # the new run went; the diverged artifact did not
    assert refs_of(bare_remote)["refs/gittrack/artifacts/data"] == from_b

    out = ok(cli("pull"))
    assert "rebased artifact data" in out and "data:v1 is now data:v2" in out
    rebased = refs_of(a)["refs/gittrack/artifacts/data"]
    assert git(a, "rev-parse", f"{rebased}^").strip() == from_b
    pushed = cli("push")
    assert "sent 1 artifact" in pushed.stdout
    assert refs_of(bare_remote)["refs/gittrack/artifacts/data"] == rebased
    # Both moved `best` (each logged with it): an alias conflict, kept both ways, named
    assert pushed.exit_code == 5 and "not sent: alias data:best diverged" in pushed.stdout
    out = ok(cli("pull", "--force"))  # takes the teammate's alias; no version is dropped
    assert "forced alias data:best" in out and "forced artifact" not in out
    assert refs_of(a) == refs_of(bare_remote)


def test_fetch_only_updates_the_mirror(bare_remote: Path, make_clone: MakeClone,
                                       monkeypatch: pytest.MonkeyPatch,
                                       fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    run = log_run(a, fast_settings, data=None)
    monkeypatch.chdir(a)
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert "would update 1 run" in ok(cli("fetch"))
    assert refs_of(b) == {}
    assert {r for r in refs_of(b, "refs/gittrack-remotes/") if "/code/" not in r} == {
        f"refs/gittrack-remotes/origin/runs/{run}"}


def test_remote_setup_makes_plain_git_carry_runs(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    monkeypatch.chdir(a)
    out = ok(cli("remote", "setup", "--push"))
    assert "remote.origin.push = HEAD" in out and "installed" in out
    run = log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = subprocess.run(["git", "push", "-q"], cwd=a, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"refs/gittrack/runs/{run}" in refs_of(bare_remote)
    assert git(bare_remote, "rev-parse", "main") == git(a, "rev-parse", "HEAD")  # code too

    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("remote", "setup"))
    git(b, "fetch", "-q")
    assert f"refs/gittrack-remotes/origin/runs/{run}" in refs_of(b, "refs/gittrack-remotes/")
    assert "updated 1 run" in ok(cli("pull"))
    monkeypatch.chdir(a)
    assert "removed remote.origin.push = HEAD" in ok(cli("remote", "setup", "--undo"))
    assert git(a, "config", "--get-all", "remote.origin.fetch").split() == \
        ["+refs/heads/*:refs/remotes/origin/*"]


@pytest.mark.slow
def test_concurrent_pushes_of_different_runs_all_land(
        bare_remote: Path, make_clone: MakeClone, fast_settings: dict[str, object]) -> None:
    a = make_clone("a", str(bare_remote))
    runs = [log_run(a, fast_settings, data=None) for _ in range(4)]
    procs = [subprocess.Popen([sys.executable, "-m", "gittrack", "push", "origin", run],
                              cwd=a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for run in runs]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
    assert set(refs_of(bare_remote)) == {f"refs/gittrack/runs/{r}" for r in runs}


def test_a_mistyped_remote_is_named_as_one(bare_remote: Path, team_clone: Path,
                                           cli: Any) -> None:
    """`gittrack push RUN` is allowed, so an unknown first word could be a run or a remote:
    the message says it is neither, naming the remotes there are."""
    for command in ("push", "pull", "fetch"):  # one exit code (2: usage) for the three
        result = cli(command, "orign")
        assert result.exit_code == 2, (command, result.stderr)
        assert "no git remote named 'orign' (remotes: origin)" in result.stderr
    assert "nor is 'orign' a run" in cli("push", "orign").stderr
    assert refs_of(bare_remote) == {}
