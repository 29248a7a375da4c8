"""`gittrack compare`: three real runs with define_metric goals, and the best run per branch."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

import gittrack
from gittrack.cli.compare_cmd import render_text
from gittrack.git.repo import discover
from gittrack.runs.compare import compare_runs
from gittrack.runs.resolve import resolve_run
from tests.helpers.cli import CliResult
from tests.helpers.repos import git
from tests.helpers.runs import make_run, start_run

Cli = Callable[..., CliResult]
GOLDEN = Path(__file__).parent / "golden" / "compare.md"


def _run(run_id: str, rows: list[dict[str, Any]], config: dict[str, object],
         settings: dict[str, object], use: str | None) -> str:
    run = start_run(id=run_id, name=run_id, project="p", config=config, settings=settings)
    run.define_metric("loss", goal="minimize")
    run.define_metric("acc", summary="max")
    for row in rows:
        run.log(row)
    if use is not None:
        run.use_artifact(use)
    run.finish()
    return run.id


@pytest.fixture
def three_runs(repo: Path, fast_settings: dict[str, object]) -> list[str]:
    """base (loss 0.5, acc 0.6), worse (loss 0.8 up, acc 0.7 up) on main; on branch
    feature, better (loss 0.2, acc 0.9). ``other`` has no goal anywhere; ``hist`` is a
    histogram. base and worse used data:v0, better data:v1 (logged by runs named prep)."""
    data = repo.parent / "data.csv"
    for content in ("1,2\n", "1,2,3\n"):
        data.write_text(content)
        make_run(name="prep", artifact=("data", data), artifact_type="dataset",
                 settings=fast_settings)
    base = _run("base", [{"loss": 1.0, "acc": 0.5, "other": 1.0},
                         {"loss": 0.5, "acc": 0.6, "other": 2.0}],
                {"lr": 0.1, "seed": 1, "model": {"depth": 2}}, fast_settings, "data:v0")
    worse = _run("worse", [{"loss": 0.9, "acc": 0.6, "other": 3.0},
                           {"loss": 0.8, "acc": 0.7, "other": 3.0}],
                 {"lr": 0.3, "seed": 1, "model": {"depth": 2}}, fast_settings, "data:v0")
    git(repo, "checkout", "-q", "-b", "feature")
    better = _run("better", [{"loss": 0.4, "acc": 0.8, "other": 2.0},
                             {"loss": 0.2, "acc": 0.9, "other": 2.0,
                              "hist": gittrack.Histogram(np_histogram=([1, 4, 2], [0, 1, 2, 3]))}],
                  {"lr": 0.01, "seed": 1, "model": {"depth": 4}}, fast_settings, "data:v1")
    return [base, worse, better]


def test_directions_follow_the_recorded_goals(cli: Cli, three_runs: list[str]) -> None:
    result = cli("compare", "base", "worse", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    summary = {row["key"]: row for row in doc["summary"]}
    assert summary["loss"]["goal"] == "minimize"
    assert summary["loss"]["verdicts"] == ["bad"]  # loss went up: bad
    assert summary["acc.max"]["goal"] == "maximize"  # summary="max" records the goal
    assert summary["acc.max"]["verdicts"] == ["good"]  # accuracy went up: good
    assert summary["other"]["goal"] is None
    assert summary["other"]["verdicts"] == ["neutral"]
    assert summary["loss"]["deltas"][0] == pytest.approx(0.3)


def test_only_config_differences_and_commit_branch_always(
    cli: Cli, three_runs: list[str]
) -> None:
    doc = json.loads(cli("compare", "base", "worse", "better", "--format", "json").stdout)
    assert [r["key"] for r in doc["config"]] == ["lr", "model.depth"]  # seed is the same
    assert [r["branch"] for r in doc["runs"]] == ["main", "main", "feature"]
    assert all(len(r["commit"]) == 40 for r in doc["runs"])
    assert [r["used"] for r in doc["runs"]] == [["data:v0"], ["data:v0"], ["data:v1"]]
    hist = next(r for r in doc["summary"] if r["key"] == "hist")
    assert hist["sparklines"] == ["", "", "▁█▃"] and hist["present"] == [False, False, True]
    assert set(doc["runs"][0]) == {"id", "name", "commit", "commit_url", "branch", "used"}
    everything = json.loads(cli("compare", "base", "worse", "--all", "--format", "json").stdout)
    assert "seed" in [r["key"] for r in everything["config"]]


def test_noise_hidden_unless_asked(cli: Cli, three_runs: list[str]) -> None:
    quiet = json.loads(cli("compare", "base", "worse", "--format", "json").stdout)
    assert quiet["noise"] == []
    assert not any(r["key"].startswith("_") for r in quiet["summary"] + quiet["metrics"])
    text = cli("compare", "base", "worse").stdout
    assert "duration" not in text and "_runtime" not in text
    loud = json.loads(cli("compare", "base", "worse", "--noise", "--format", "json").stdout)
    assert {"duration", "created_at"} <= {r["key"] for r in loud["noise"]}


def test_branch_picks_the_best_run_by_goal(cli: Cli, three_runs: list[str]) -> None:
    doc = json.loads(cli("compare", "--branch", "main", "--branch", "feature",
                         "--format", "json").stdout)
    assert [r["name"] for r in doc["runs"]] == ["base", "better"]  # lowest loss on main
    by_acc = json.loads(cli("compare", "--branch", "main", "--branch", "feature",
                            "--metric", "acc", "--format", "json").stdout)
    assert [r["name"] for r in by_acc["runs"]] == ["worse", "better"]  # highest acc on main
    no_goal = cli("compare", "--branch", "main", "--branch", "feature", "--metric", "other")
    assert no_goal.exit_code == 2
    assert "'other'" in no_goal.stderr and "goal" in no_goal.stderr


def test_sparklines_of_metric_histories(cli: Cli, three_runs: list[str]) -> None:
    doc = json.loads(cli("compare", "base", "better", "--format", "json").stdout)
    metrics = {row["key"]: row for row in doc["metrics"]}
    assert metrics["loss"]["sparklines"] == ["█▁", "█▁"]
    assert metrics["acc"]["sparklines"] == ["▁█", "▁█"]


def test_markdown_matches_the_golden_file(cli: Cli, three_runs: list[str]) -> None:
    result = cli("compare", "base", "worse", "better", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    text = re.sub(r"`[0-9a-f]{12}`", "`COMMIT`", result.stdout)  # the only varying part
    if os.environ.get("GITTRACK_UPDATE_GOLDEN"):  # regenerate: review the diff before committing
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_one_run_is_a_usage_error(cli: Cli, three_runs: list[str]) -> None:
    result = cli("compare", "base")
    assert result.exit_code == 2
    assert "two or more runs" in result.stderr


def test_commit_links_when_the_remote_is_a_forge(
    cli: Cli, repo: Path, fast_settings: dict[str, object]
) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:acme/model.git")
    for run_id in ("one", "two"):
        _run(run_id, [{"loss": 1.0}], {}, fast_settings, None)
    sha = git(repo, "rev-parse", "HEAD").strip()
    doc = json.loads(cli("compare", "one", "two", "--format", "json").stdout)
    assert doc["runs"][0]["commit_url"] == f"https://github.com/acme/model/commit/{sha}"
    markdown = cli("compare", "one", "two", "--format", "markdown").stdout
    assert f"[`{sha[:12]}`](https://github.com/acme/model/commit/{sha})" in markdown


def test_text_colours_good_green_bad_red_neutral_grey(repo: Path, three_runs: list[str]) -> None:
    views = [resolve_run(discover(repo), name) for name in ("base", "worse")]
    lines = {line.split()[0]: line for line in render_text(compare_runs(views)).splitlines()
             if line.startswith("  ")}
    assert click.style("▲ +0.3 (+60.0%)", fg="red") in lines["loss"]  # minimized, went up
    assert click.style("▲ +0.1 (+16.7%)", fg="green") in lines["acc.max"]  # maximized, up
    assert click.style("▲ +1 (+50.0%)", fg="bright_black") in lines["other"]  # no goal
    plain = click.unstyle(render_text(compare_runs(views)))
    assert "commit" in plain and "branch     main  |  main" in plain  # shown though equal
    assert "data used  data:v0  |  data:v0" in plain


def test_text_through_the_command(cli: Cli, three_runs: list[str]) -> None:
    result = cli("compare", "base", "better", "--all")
    assert result.exit_code == 0, result.stderr
    assert "seed" in result.stdout and "loss (minimize)" in result.stdout
    assert "█▁ 0.5" in result.stdout and "\x1b[" not in result.stdout  # no colour off a tty
