"""`gittrack rm` and `gittrack artifact rm` on real repositories and a bare remote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult, git
from tests.sync.deletion import add_bare_remote, has_object, make_run, push_all, unique_objects

Cli = Callable[..., CliResult]


def test_rm_deletes_only_the_named_runs_and_their_objects(repo: Path, cli: Cli) -> None:
    gone, kept = make_run(), make_run()
    unique = unique_objects(repo, f"refs/gittrack/runs/{gone}")
    result = cli("rm", gone[:12], "--yes")
    assert result.exit_code == 0, result.stderr
    assert "deleted 1 ref(s)" in result.stdout
    assert not any(has_object(repo, o) for o in unique)
    assert git(repo, "for-each-ref", "--format=%(refname)").split() == [
        "refs/gittrack/runs/" + kept, "refs/heads/main"]


def test_rm_without_a_terminal_needs_yes(repo: Path, cli: Cli) -> None:
    run_id = make_run()
    result = cli("rm", run_id)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert run_id in git(repo, "for-each-ref")


def test_rm_on_the_remote_and_unknown_runs(repo: Path, cli: Cli) -> None:
    bare = add_bare_remote(repo)
    run_id = make_run()
    push_all(repo)
    assert cli("rm", run_id, "--remote", "origin", "--yes").exit_code == 0
    assert git(bare, "for-each-ref") == ""
    assert cli("rm", "nosuchrun", "--yes").exit_code == 4


def test_artifact_rm_whole_and_refuses_one_version_of_several(repo: Path, cli: Cli) -> None:
    (repo / "w.bin").write_bytes(b"one")
    make_run(artifact=("model", repo / "w.bin"))
    (repo / "w.bin").write_bytes(b"two")
    make_run(artifact=("model", repo / "w.bin"))
    refused = cli("artifact", "rm", "model:v0", "--yes")
    assert refused.exit_code == 2 and "artifact rm model" in refused.stderr
    assert cli("artifact", "rm", "model", "--yes").exit_code == 0
    assert "artifacts/model" not in git(repo, "for-each-ref")
