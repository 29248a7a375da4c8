"""`gittrack report`: runs on a feature branch's commits against main's, end to end."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.golden import assert_golden
from tests.helpers.pull_request import commit, make_pull_request
from tests.helpers.repos import git
from tests.helpers.runs import start_run

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
    assert_golden(GOLDEN, _normalised(result.stdout))


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


def test_merging_main_into_the_branch_keeps_mains_runs_on_the_base_side(
    cli: Cli, repo: Path, fast_settings: dict[str, object], pull_request: dict[str, str]
) -> None:
    git(repo, "checkout", "-q", "main")
    (repo / "README").write_text("main moves on\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "main moves on")
    start_run(id="newer", name="newer", settings=fast_settings).finish()
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "--no-edit", "main")
    out = cli("report", "--base", "main", "--head", "feature").stdout
    assert "- **Head**: 2 runs on the commits of `main..feature`" in out
    assert "- **Base**: 3 runs on the commits reachable from `main`" in out


def test_ci_clone_pulls_the_runs_then_reports(
    cli: Cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    pull_request: dict[str, str], served_remote: tuple[Path, str]
) -> None:
    """As the documented CI jobs: a fresh clone of the remote, detached at the head, pulls
    the runs (`gittrack pull origin`) and reports against `origin/main`. Over the file
    transport and over `git daemon`."""
    _, url = served_remote
    git(repo, "remote", "add", "origin", url)
    git(repo, "push", "-q", "origin", "main", "feature")
    assert cli("push", "origin").exit_code == 0
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", url, str(ci))
    git(ci, "checkout", "-q", "--detach", "origin/feature")
    monkeypatch.chdir(ci)
    assert cli("pull", "origin").exit_code == 0
    result = cli("report", "--base", "origin/main")
    assert result.exit_code == 0, result.stderr
    assert "|  | `main-best (main-best)` | `slow (slow)` |" in result.stdout
    assert "- **Head**: 2 runs on the commits of `origin/main..HEAD`" in result.stdout


def test_head_runs_without_the_metric_are_said(
    cli: Cli, repo: Path, fast_settings: dict[str, object], pull_request: dict[str, str]
) -> None:
    git(repo, "checkout", "-q", "-b", "no-loss", "main")
    commit(repo, "logs no loss")
    run = start_run(name="quiet", settings=fast_settings)
    run.log({"x": 1.0})
    run.finish()
    out = cli("report", "--base", "main", "--head", "no-loss").stdout
    assert "_No run on the head's commits (`main..no-loss`) has a value of `loss`._" in out
    assert "#### Config" not in out and "`quiet`" in out  # listed, not compared
    page = cli("report", "--base", "main", "--head", "no-loss", "--format", "html").stdout
    assert "<svg" not in page and "has a value of <code>loss</code>" in page


def test_ci_examples_in_the_docs_parse_and_find_the_marker() -> None:
    import yaml

    docs = (Path(__file__).parents[2] / "docs" / "report.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, re.DOTALL)
    github, gitlab = (yaml.safe_load(b) for b in blocks)
    steps = github["jobs"]["report"]["steps"]
    script = "\n".join(s.get("run", "") for s in steps)
    assert "gittrack pull origin" in script and "gittrack report --base" in script
    assert 'startswith("<!-- gittrack-report -->")' in script and "PATCH" in script
    lines = "\n".join(gitlab["gittrack-report"]["script"])
    assert "gittrack report --base" in lines and "<!-- gittrack-report -->" in lines
    assert "PUT" in lines and gitlab["gittrack-report"]["variables"]["GIT_DEPTH"] == 0


def test_project_keeps_one_projects_runs(cli: Cli, repo: Path, fast_settings: dict[str, object],
                                         pull_request: dict[str, str]) -> None:
    run = start_run(name="elsewhere", project="q", settings=fast_settings)
    run.define_metric("loss", goal="minimize")
    run.log({"loss": 0.01})
    run.finish()
    assert "`elsewhere (" in cli("report", "--base", "main").stdout  # best of every project
    out = cli("report", "--base", "main", "--project", "p").stdout
    assert "elsewhere" not in out and "|  | `main-best (main-best)` | `slow (slow)` |" in out
