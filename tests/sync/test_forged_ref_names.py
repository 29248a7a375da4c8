"""Ref names a remote forged (``refs/gittrack/runs/nested/x``, aliases ``latest`` or ``v5``):
checked against the rules ``init()`` and ``artifact alias`` apply, skipped with a warning when
listing, refused when resolving, and deletable by their exact name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.hostile import forge, tree_of
from tests.helpers.repos import git
from tests.helpers.runs import marked_run

BAD_RUNS = ["nested/x", "-rf", "café", "A" * 200]
BAD_ALIASES = ["latest", "v5", "nested/x"]


@pytest.fixture
def forged(repo: Path) -> tuple[str, str]:
    """A good run with artifact ``model``, and copies of them under invalid ref names."""
    (repo / "w.bin").write_bytes(b"weights")
    good = marked_run(artifact=("model", repo / "w.bin"))
    spec = tree_of(repo, f"refs/gittrack/runs/{good}")
    run_yaml = spec["run.yaml"]
    assert isinstance(run_yaml, bytes)
    for bad in BAD_RUNS:  # run.yaml agrees with the ref: only the name itself is wrong
        quoted = json.dumps(bad).encode()
        forge(repo, f"refs/gittrack/runs/{bad}",
              {**spec, "run.yaml": run_yaml.replace(good.encode(), quoted)})
    version = git(repo, "rev-parse", "refs/gittrack/artifacts/model").strip()
    for alias in BAD_ALIASES:
        git(repo, "update-ref", f"refs/gittrack/aliases/model/{alias}", version)
    git(repo, "update-ref", "refs/gittrack/artifacts/nested/y", version)
    return good, version


def run_refs(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/gittrack/runs/").split()


def test_runs_with_invalid_ids_are_skipped_refused_and_removable(
        repo: Path, cli: Any, forged: tuple[str, str]) -> None:
    good, _ = forged
    listed = cli("runs", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]
    for bad in BAD_RUNS:
        assert f"refs/gittrack/runs/{bad}" in listed.stderr
    for bad in BAD_RUNS:
        for args in (("show", "--", bad), ("export", "-o", "ex", "--", bad)):
            result = cli(*args)
            assert result.exit_code != 0 and "not a valid run id" in result.stderr, result
    assert not (repo / "ex").exists() or not any((repo / "ex").rglob("*"))
    for bad in BAD_RUNS:
        result = cli("rm", "--yes", "--", bad)
        assert result.exit_code == 0, (bad, result.stderr)
    assert run_refs(repo) == [f"refs/gittrack/runs/{good}"]


def test_purge_removes_a_run_with_an_invalid_id(repo: Path, cli: Any,
                                                forged: tuple[str, str]) -> None:
    result = cli("purge", "--yes", "nested/x")
    assert result.exit_code == 0, result.stderr
    assert "refs/gittrack/runs/nested/x" not in run_refs(repo)


def test_invalid_aliases_and_artifact_names_are_skipped_and_removable(
        repo: Path, cli: Any, forged: tuple[str, str]) -> None:
    listed = cli("artifact", "ls", "--json")
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [row["name"] for row in rows] == ["model"]
    assert not set(BAD_ALIASES) & set(rows[0]["aliases"]), rows
    for alias in BAD_ALIASES:
        assert f"refs/gittrack/aliases/model/{alias}" in listed.stderr
    assert "refs/gittrack/artifacts/nested/y" in listed.stderr
    for alias in BAD_ALIASES:
        result = cli("artifact", "alias", "model:v0", alias, "--delete")
        assert result.exit_code == 0, (alias, result.stderr)
    assert git(repo, "for-each-ref", "refs/gittrack/aliases/") == ""
    result = cli("artifact", "rm", "--yes", "nested/y")
    assert result.exit_code == 0, result.stderr
    assert "nested" not in git(repo, "for-each-ref", "refs/gittrack/artifacts/")
