"""`gittrack diff A B --code` and `gittrack show RUN --code`, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.code import make_dirty
from tests.helpers.repos import git
from tests.helpers.runs import make_run

Cli = Callable[..., CliResult]


@pytest.fixture
def two_runs(repo: Path) -> tuple[str, str, str]:
    """Run A with saved code on a dirty tree; a commit later, run B with another change;
    and run C without saved code."""
    make_dirty(repo)
    a = make_run([{"loss": 1.0}], name="alpha", save_code=True).id
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "commit the experiment")
    (repo / "train.py").write_text("print('lr 0.05')\n")
    b = make_run([{"loss": 0.5}], name="beta", save_code=True).id
    c = make_run([{"loss": 0.4}], name="gamma").id
    return a, b, c


def test_text_lists_the_commits_between_then_both_patches(
        cli: Cli, two_runs: tuple[str, str, str]) -> None:
    result = cli("diff", "alpha", "beta", "--code")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "1 commit ahead" in out and "commit the experiment" in out
    a_at, b_at = out.index("patch of A  alpha"), out.index("patch of B  beta")
    patch_a, patch_b = out[a_at:b_at], out[b_at:]
    assert "diff --git a/data.bin b/data.bin" in patch_a and "GIT binary patch" in patch_a
    assert "+print('changed')" in patch_a and "hunter2" not in out
    assert "-print('changed')" in patch_b and "+print('lr 0.05')" in patch_b
    assert "data.bin" not in patch_b  # committed between the runs


def test_a_run_without_saved_code_says_so(cli: Cli, two_runs: tuple[str, str, str]) -> None:
    result = cli("diff", "beta", "gamma", "--code")
    assert result.exit_code == 0, result.stderr
    assert "A and B ran on commit" in result.stdout
    assert "patch of B  gamma" in result.stdout and "no code saved" in result.stdout


def test_json_holds_the_patches(cli: Cli, two_runs: tuple[str, str, str]) -> None:
    doc = json.loads(cli("diff", "alpha", "gamma", "--code", "--json").stdout)
    patches = doc["code"]["patches"]
    assert patches["a"]["saved"] is True and "GIT binary patch" in patches["a"]["patch"]
    assert patches["a"]["files"] == ["diff.patch", "requirements.txt"]
    assert patches["b"] == {"commit": doc["code"]["b"], "saved": False, "files": [],
                            "patch": None}
    assert [c["subject"] for c in doc["code"]["commits"]] == ["commit the experiment"]
    # without --code: the diff as before, no patches
    assert "patches" not in json.loads(cli("diff", "alpha", "gamma", "--json").stdout)["code"]


def test_markdown_fences_the_patches(cli: Cli, two_runs: tuple[str, str, str]) -> None:
    out = cli("diff", "alpha", "beta", "--code", "--format", "markdown").stdout
    assert "#### Saved code of A (`alpha`)" in out and "```diff\ndiff --git" in out
    assert out.count("```diff") == 2


def test_show_code_lists_the_saved_files(cli: Cli, two_runs: tuple[str, str, str]) -> None:
    result = cli("show", "alpha", "--code")
    assert result.exit_code == 0, result.stderr
    assert "diff.patch" in result.stdout and "requirements.txt" in result.stdout
    doc = json.loads(cli("show", "alpha", "--code", "--json").stdout)
    assert doc["saved"] is True and {f["name"] for f in doc["files"]} >= {"diff.patch"}
    assert "saved no code" in cli("show", "gamma", "--code").stdout
    assert "gittrack show RUN --code" in cli("show", "alpha").stdout
