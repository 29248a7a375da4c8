"""`gittrack report`: runs on a feature branch's commits against main's, end to end."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.pull_request import commit, make_pull_request
from tests.helpers.repos import git

Cli = Callable[..., CliResult]
GOLDEN = Path(__file__).parent / "golden" / "report.md"


@pytest.fixture
def pull_request(repo: Path, fast_settings: dict[str, object]) -> dict[str, str]:
    return make_pull_request(repo, fast_settings)


def _normalised(text: str) -> str:
    return re.sub(r"`[0-9a-f]{12}`", "`COMMIT`", text)  # the only varying part


def test_markdown_matches_the_golden_file(cli: Cli, pull_request: dict[str, Any]) -> None:
    result = cli("report", "--base", "main", "--head", "feature")
    assert result.exit_code == 0, result.stderr
    text = _normalised(result.stdout)
    if os.environ.get("GITTRACK_UPDATE_GOLDEN"):  # regenerate: review the diff before committing
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_best_per_side_and_the_marker_first(cli: Cli, pull_request: dict[str, Any]) -> None:
    out = cli("report", "--base", "main").stdout  # --head defaults to HEAD (feature)
    assert out.splitlines()[0] == "<!-- gittrack-report -->"
    assert "|  | `main-best (main-best)` | `slow (slow)` |" in out  # best of each side
    assert "stray" not in out and "`old (old)`" not in out.split("#### Runs")[0]
    assert "`fast` (`fast`)" in out  # listed among the head's runs
    assert "| `loss` (minimize) | 0.4 | 0.3 ▼ -0.1 (-25.0%) ✅ |" in out


def test_metric_picks_the_best(cli: Cli, pull_request: dict[str, Any]) -> None:
    out = cli("report", "--base", "main", "--metric", "acc").stdout
    assert "**Best run** of each side by `acc` (maximize)" in out
    assert "|  | `main-best (main-best)` | `slow (slow)` |" in out  # highest acc: same runs
    result = cli("report", "--base", "main", "--metric", "nothing")
    assert result.exit_code == 2 and "'nothing'" in result.stderr


def test_head_without_runs_still_reports(cli: Cli, repo: Path,
                                         pull_request: dict[str, Any]) -> None:
    git(repo, "checkout", "-q", "-b", "empty", "main")
    commit(repo, "no runs here")
    result = cli("report", "--base", "main", "--head", "empty")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!-- gittrack-report -->")
    assert "_No finished run on the head's commits (`main..empty`)._" in result.stdout


def test_unknown_ref_is_one_line(cli: Cli, pull_request: dict[str, Any]) -> None:
    result = cli("report", "--base", "no-such-branch")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "gittrack: error: --base 'no-such-branch' names no commit here (fetch it first?)"]


def test_output_file(cli: Cli, tmp_path: Path, pull_request: dict[str, Any]) -> None:
    target = tmp_path / "report.md"
    result = cli("report", "--base", pull_request["main"][:8], "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text(encoding="utf-8").startswith("<!-- gittrack-report -->")
