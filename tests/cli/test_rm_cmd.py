"""`gittrack rm` and `gittrack artifact rm` on real repositories and a bare remote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import CliResult
from tests.helpers.repos import add_bare_remote, git, has_object, push_all, unique_objects
from tests.helpers.runs import marked_run

Cli = Callable[..., CliResult]


def test_rm_deletes_only_the_named_runs_and_their_objects(repo: Path, cli: Cli) -> None:
    gone, kept = marked_run(), marked_run()
    unique = unique_objects(repo, f"refs/gittrack/runs/{gone}")
    result = cli("rm", gone[:12], "--yes")
    assert result.exit_code == 0, result.stderr
    assert "deleted 1 ref(s)" in result.stdout
    assert not any(has_object(repo, o) for o in unique)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "for-each-ref", "--format=%(refname)").split() == [
        "refs/gittrack/code/" + head, "refs/gittrack/runs/" + kept, "refs/heads/main"]


def test_rm_on_the_remote_and_unknown_runs(repo: Path, cli: Cli) -> None:
    bare = add_bare_remote(repo)
    run_id = marked_run()
    push_all(repo)
    assert cli("rm", run_id, "--remote", "origin", "--yes").exit_code == 0
    assert git(bare, "for-each-ref", "refs/gittrack/runs/") == ""
    assert git(bare, "for-each-ref", "refs/gittrack/code/") != ""  # until `gittrack gc`
    assert cli("gc").exit_code == 0
    assert git(bare, "for-each-ref", "refs/gittrack/") == ""
    assert cli("rm", "nosuchrun", "--yes").exit_code == 4


def test_artifact_rm_whole(repo: Path, cli: Cli) -> None:
    (repo / "w.bin").write_bytes(b"one")
    marked_run(artifact=("model", repo / "w.bin"))
    (repo / "w.bin").write_bytes(b"two")
    marked_run(artifact=("model", repo / "w.bin"))
    result = cli("artifact", "rm", "model", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "artifacts/model" not in git(repo, "for-each-ref")


def test_artifact_rm_one_version_end_to_end(repo: Path, cli: Cli) -> None:
    bare = add_bare_remote(repo)
    for content in (b"zero", b"one", b"two", b"three"):
        (repo / "w.bin").write_bytes(content)
        marked_run(artifact=("model", repo / "w.bin"))
    user = marked_run(use="model:v1")
    assert cli("artifact", "alias", "model:v1", "best").exit_code == 0
    push_all(repo)

    refused = cli("artifact", "rm", "model:v1")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    result = cli("artifact", "rm", "model:best", "--remote", "origin", "--yes")
    out = result.stdout
    assert result.exit_code == 0, result.stderr
    assert "removed model:v1 here and on origin" in out
    assert "re-committed with their numbers and content: v2, v3" in out
    assert "removed alias model:best (it named model:v1)" in out
    assert "latest is model:v3; v1 is never reused" in out
    assert "aliases/model" not in git(bare, "for-each-ref")
    assert git(bare, "rev-parse", "refs/gittrack/artifacts/model") == git(
        repo, "rev-parse", "refs/gittrack/artifacts/model")

    listed = cli("artifact", "ls").stdout.splitlines()[1].split()
    assert listed[:4] == ["model", "v3", "model", "-"]
    shown = cli("show", user)
    assert shown.exit_code == 0 and "model:v1 (removed)" in shown.stdout
    gone = cli("artifact", "show", "model:v1")
    assert gone.exit_code == 4
    assert "model:v1 was removed" in gone.stderr and "versions of model: v0, v2, v3" in gone.stderr
    assert f"runs that recorded it keep the record: {user}" in gone.stderr
    assert cli("artifact", "get", "model:v1").exit_code == 4
    assert cli("artifact", "show", "model:v2").exit_code == 0

    tip = cli("artifact", "rm", "model:latest", "--yes")
    assert tip.exit_code == 0 and "latest is model:v2; v3 is never reused" in tip.stdout
    assert "still on origin: run again with --remote origin" in tip.stdout
    (repo / "w.bin").write_bytes(b"four")
    marked_run(artifact=("model", repo / "w.bin"))
    assert cli("artifact", "ls").stdout.splitlines()[1].split()[1] == "v4"
    missing = cli("artifact", "rm", "model:v3", "--yes")
    assert missing.exit_code == 4 and "model:v3 was removed" in missing.stderr
