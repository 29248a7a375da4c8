"""Lineage both ways: runs record what they used and logged; versions name their producer."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pygit2
import pytest
import yaml

import gittrack
from gittrack.errors import GittrackError, RunFinishedError, UsageError
from gittrack.runs.artifact_runs import MAX_DEPTH, consumers, lineage_graph, producer
from tests.helpers.processes import killed
from tests.helpers.repos import git


def run_yaml(repo: Path, run_id: str) -> dict[str, object]:
    return yaml.safe_load(git(repo, "show", f"refs/gittrack/runs/{run_id}:run.yaml"))


def dataset(path: Path, content: bytes) -> gittrack.Artifact:
    path.write_bytes(content)
    art = gittrack.Artifact("data", "dataset")
    art.add_file(path)
    return art


def test_lineage_both_ways(repo: Path, fast_settings: dict[str, object]) -> None:
    with gittrack.init(settings=fast_settings) as maker:
        version = maker.log_artifact(dataset(repo / "d.csv", b"1"), aliases=["best"])
        maker.log_artifact(dataset(repo / "d.csv", b"1"))  # the same version: listed once
    with gittrack.init(settings=fast_settings) as user:
        used = user.use_artifact("data:best")
        assert used == version and used.producer == maker.id
    assert run_yaml(repo, maker.id)["artifacts"] == {"logged": ["data:v0"]}
    assert run_yaml(repo, user.id)["artifacts"] == {"used": ["data:v0"]}
    git_repo = pygit2.Repository(str(repo))
    assert [v.id for v in consumers(git_repo, version)] == [user.id]
    made_by = producer(git_repo, version)
    assert made_by is not None and made_by.id == maker.id
    api = gittrack.Api(str(repo))
    assert api.run(user.id).used_artifacts() == [version]
    assert api.run(maker.id).logged_artifacts() == [version]
    assert api.run(maker.id).used_artifacts() == []


def test_runs_without_artifacts_have_no_artifacts_key(repo: Path,
                                                      fast_settings: dict[str, object]) -> None:
    with gittrack.init(settings=fast_settings) as run:
        run.log({"x": 1})
    assert "artifacts" not in run_yaml(repo, run.id)


def test_use_records_the_version_not_the_alias(repo: Path,
                                                fast_settings: dict[str, object]) -> None:
    with gittrack.init(settings=fast_settings) as run:
        run.log_artifact(dataset(repo / "d.csv", b"1"), aliases=["prod"])
        run.log_artifact(dataset(repo / "d.csv", b"2"))
        assert run.use_artifact("data:prod").spec == "data:v0"
        assert run.use_artifact(run.use_artifact("data")).spec == "data:v1"
    assert run_yaml(repo, run.id)["artifacts"] == {"used": ["data:v0", "data:v1"],
                                                   "logged": ["data:v0", "data:v1"]}


def test_module_level_functions(repo: Path, fast_settings: dict[str, object]) -> None:
    with pytest.raises(GittrackError, match=r"before gittrack.init"):
        gittrack.log_artifact(dataset(repo / "d.csv", b"1"))
    with pytest.raises(GittrackError, match=r"before gittrack.init"):
        gittrack.use_artifact("data")
    run = gittrack.init(settings=fast_settings)
    version = gittrack.log_artifact(dataset(repo / "d.csv", b"1"), aliases="best")
    assert gittrack.use_artifact("data:best") == version
    run.finish()
    with pytest.raises(RunFinishedError):
        run.log_artifact(dataset(repo / "d.csv", b"2"))
    with pytest.raises(RunFinishedError):
        run.use_artifact("data")


def test_bad_arguments(repo: Path, fast_settings: dict[str, object]) -> None:
    with gittrack.init(settings=fast_settings) as run:
        with pytest.raises(UsageError):
            run.use_artifact(3)  # type: ignore[arg-type]
        with pytest.raises(gittrack.NotFoundError, match=r"no artifact named 'nope'"):
            run.use_artifact("nope:v1")
    assert "artifacts" not in run_yaml(repo, run.id)


def test_resumed_runs_keep_earlier_lineage(repo: Path, fast_settings: dict[str, object]) -> None:
    with gittrack.init(settings=fast_settings, id="lineage-run") as run:
        run.log_artifact(dataset(repo / "d.csv", b"1"))
    with gittrack.init(settings=fast_settings, id="lineage-run", resume="must") as run:
        run.use_artifact("data:v0")
        run.log_artifact(dataset(repo / "d.csv", b"2"))
    assert run_yaml(repo, "lineage-run")["artifacts"] == {"used": ["data:v0"],
                                                          "logged": ["data:v0", "data:v1"]}


def test_lineage_survives_kill_9(repo: Path) -> None:
    code = textwrap.dedent("""
        import os, signal, pathlib, gittrack
        run = gittrack.init(id="killed", settings={"checkpoint_interval": 3600, "quiet": True})
        pathlib.Path("d.csv").write_text("1")
        art = gittrack.Artifact("data", "dataset")
        art.add_file("d.csv")
        run.log_artifact(art)
        run.use_artifact("data:v0")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    killed(code, repo)
    gittrack.Api(str(repo), recover=True)  # recovers dead runs
    doc = run_yaml(repo, "killed")
    assert doc["state"] == "crashed"
    assert doc["artifacts"] == {"logged": ["data:v0"], "used": ["data:v0"]}


def test_forked_children_cannot_log_artifacts(repo: Path,
                                              fast_settings: dict[str, object]) -> None:
    run = gittrack.init(settings=fast_settings)
    art = dataset(repo / "d.csv", b"1")
    pid = os.fork()
    if pid == 0:  # the child: exit code says what happened
        try:
            run.log_artifact(art)
            os._exit(1)
        except gittrack.ConflictError:
            os._exit(0)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    run.finish()
    assert os.waitstatus_to_exitcode(status) == 0
    assert subprocess.run(["git", "for-each-ref", "refs/gittrack/artifacts"], cwd=repo,
                          capture_output=True, text=True).stdout == ""


def test_records_of_removed_versions_stay_readable(repo: Path,
                                                   fast_settings: dict[str, object]) -> None:
    from gittrack.errors import VersionRemovedError
    from gittrack.runs.artifact_runs import recorded_by
    from gittrack.runs.lineage import notes
    from gittrack.sync.delete import delete_artifact
    from gittrack.sync.remove_version import remove_version

    with gittrack.init(settings=fast_settings) as maker:
        maker.log_artifact(dataset(repo / "d.csv", b"1"))
        maker.log_artifact(dataset(repo / "d.csv", b"2"))
    with gittrack.init(settings=fast_settings) as user:
        user.use_artifact("data:v0")
        user.use_artifact("data:v1")
    git_repo = pygit2.Repository(str(repo))
    remove_version(git_repo, "data", 0)
    view = gittrack.Api(str(repo)).run(user.id)
    assert notes(git_repo, view) == {"data:v0": "removed"}
    assert [v.spec for v in view.used_artifacts()] == ["data:v1"]
    assert [v.id for v in recorded_by(git_repo, "data:v0", "logged")] == [maker.id]
    with pytest.raises(VersionRemovedError):
        gittrack.Api(str(repo)).artifact("data:v0")
    delete_artifact(git_repo, "data")
    assert notes(git_repo, view) == {"data:v0": "not here", "data:v1": "not here"}


def test_latest_among_logged_aliases_is_accepted_and_changes_nothing(
        repo: Path, fast_settings: dict[str, object]) -> None:
    """W&B scripts write ``aliases=["latest", "best"]``: the version logged is the newest."""
    with gittrack.init(settings=fast_settings) as run:
        first = run.log_artifact(dataset(repo / "d.csv", b"1"), aliases=["latest", "best"])
        second = run.log_artifact(dataset(repo / "d.csv", b"2"), aliases=["latest"])
    assert (first.version, second.version) == (0, 1)
    assert gittrack.Api(str(repo)).artifact("data:latest") == second
    assert gittrack.Api(str(repo)).artifact("data:best") == first
    refs = pygit2.Repository(str(repo)).references
    assert "refs/gittrack/aliases/data/latest" not in refs  # never stored


def test_runs_record_the_commit_beside_the_label(repo: Path,
                                                 fast_settings: dict[str, object]) -> None:
    """``artifact_commits`` beside ``artifacts``: each label with its version's commit and
    content, kept across a resume; ``artifacts`` itself is as before."""
    with gittrack.init(settings=fast_settings, id="commits-run") as run:
        version = run.log_artifact(dataset(repo / "d.csv", b"1"))
        run.use_artifact("data:v0")
    doc = run_yaml(repo, "commits-run")
    manifest = git(repo, "rev-parse", f"{version.commit}:manifest.parquet").strip()
    entry = f"data:v0 {version.commit} {manifest}"
    assert doc["artifacts"] == {"used": ["data:v0"], "logged": ["data:v0"]}
    assert doc["artifact_commits"] == {"used": [entry], "logged": [entry]}
    with gittrack.init(settings=fast_settings, id="commits-run", resume="must") as again:
        again.log_artifact(dataset(repo / "d.csv", b"2"))
    assert run_yaml(repo, "commits-run")["artifact_commits"]["logged"][0] == entry


def test_records_without_commits_or_with_garbled_ones_resolve_by_label(
        repo: Path, fast_settings: dict[str, object]) -> None:
    """Runs written before ``artifact_commits`` (labels only) read as they did; an entry not of
    the form ``label commit manifest`` is ignored."""
    from gittrack.runs.lineage import notes, run_artifacts

    with gittrack.init(settings=fast_settings) as maker:
        version = maker.log_artifact(dataset(repo / "d.csv", b"1"))
    git_repo = pygit2.Repository(str(repo))
    for commits in (None, {"used": ["data:v0 not-a-commit", 5, "data:v0"]}):
        old = {"artifacts": {"used": ["data:v0"]},
               **({"artifact_commits": commits} if commits else {})}
        view = type("Old", (), {"metadata": old})()
        assert run_artifacts(git_repo, view, "used") == [version]
        assert notes(git_repo, view) == {}


def test_lineage_graph_of_versions_made_from_versions(
        repo: Path, fast_settings: dict[str, object]) -> None:
    with gittrack.init(settings=fast_settings) as maker:
        first = maker.log_artifact(dataset(repo / "d.csv", b"1"))
    with gittrack.init(settings=fast_settings) as cleaner:  # data:v0 -> cleaner -> data:v1
        cleaner.use_artifact("data:v0")
        second = cleaner.log_artifact(dataset(repo / "d.csv", b"2"))
    with gittrack.init(settings=fast_settings) as reader:
        reader.use_artifact("data:v1")
    git_repo = pygit2.Repository(str(repo))
    graph = lineage_graph(git_repo, second, depth=MAX_DEPTH + 5)
    assert graph.root == "version:data:v1" and not graph.truncated
    assert set(graph.versions) == {"version:data:v0", "version:data:v1"}
    assert set(graph.runs) == {f"run:{r.id}" for r in (maker, cleaner, reader)}
    assert sorted(graph.edges) == sorted([
        (f"run:{maker.id}", "version:data:v0", "logged"),
        ("version:data:v0", f"run:{cleaner.id}", "used"),
        (f"run:{cleaner.id}", "version:data:v1", "logged"),
        ("version:data:v1", f"run:{reader.id}", "used")])
    view = gittrack.Api(str(repo)).run(reader.id)
    near = lineage_graph(git_repo, view, depth=1)
    assert set(near.runs) | set(near.versions) == {f"run:{reader.id}", "version:data:v1"}
    assert near.truncated
    capped = lineage_graph(git_repo, first, depth=4, max_nodes=0)  # clamped to 1: the start
    assert list(capped.versions) == ["version:data:v0"] and not capped.runs and capped.truncated
