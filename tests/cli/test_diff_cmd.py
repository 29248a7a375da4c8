from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

import gittrack
from gittrack.cli.diff_cmd import render_text
from gittrack.git.repo import discover
from gittrack.runs.diff import diff_runs as compute_diff
from gittrack.runs.resolve import resolve_run
from tests.helpers.cli import CliResult
from tests.helpers.golden import assert_golden
from tests.helpers.repos import git
from tests.helpers.runs import make_run, start_run

Cli = Callable[..., CliResult]


def _commit(repo: Path, message: str) -> str:
    with (repo / "train.py").open("a") as f:
        f.write(f"# {message}\n")
    git(repo, "commit", "-q", "-am", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def two_runs(repo: Path, fast_settings: dict[str, object]) -> tuple[str, str, list[str]]:
    """Run A on the first commit; two commits later (one with a pipe), run B."""
    a = make_run([{"loss": 1.0, "acc": 0.5}, {"loss": 0.5, "acc": 0.5}], project="p",
                 name="baseline", config={"lr": 0.1, "opt": {"name": "adam"}, "seed": 1},
                 settings=fast_settings).id
    shas = [_commit(repo, "add warmup"), _commit(repo, "tune | schedule")]
    b = make_run([{"loss": 0.8, "acc": 0.5}, {"loss": 0.3, "acc": 0.5, "ñ": float("nan")}],
                 project="p", name="candidate",
                 config={"lr": 0.05, "opt": {"name": "sgd"}, "wd": 0.01},
                 settings=fast_settings).id
    return a, b, shas


def test_text_shows_only_differences(cli: Cli, two_runs: tuple[str, str, list[str]]) -> None:
    a, b, shas = two_runs
    result = cli("diff", "baseline", "candidate")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"A  baseline ({a})" in out and f"B  candidate ({b})" in out
    for needle in ("config", "~ lr", "0.1 → 0.05", "(-0.05, -50.0%)", "~ opt.name", "- seed",
                   "+ wd", "summary", "metrics (B - A)", "last 0.5 → 0.3 (-0.2)", "+ ñ",
                   "(only in B)", "1 metric unchanged", "is 2 commits ahead", "add warmup",
                   "tune | schedule"):
        assert needle in out, needle
    assert "code.commit" not in out  # the sides' lines show it: not again under metadata
    assert "acc " not in out  # unchanged metric, summary value and config are omitted
    assert out.index("add warmup") < out.index("tune | schedule")  # oldest first
    assert shas[0][:7] in out


def test_same_run_has_no_differences(cli: Cli, two_runs: tuple[str, str, list[str]]) -> None:
    a, _, _ = two_runs
    result = cli("diff", a, a[:20])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("no differences")
    markdown = cli("diff", a, a, "--format", "markdown").stdout
    assert "_No differences._" in markdown


def test_markdown_is_a_pull_request_comment(
    cli: Cli, two_runs: tuple[str, str, list[str]]
) -> None:
    a, b, shas = two_runs
    result = cli("diff", a, b, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    md = result.stdout
    assert md.startswith(f"### gittrack diff: `baseline` (`{a}`) → `candidate` (`{b}`)")
    for row in (
        "| key | A | B |",
        "| `lr` | 0.1 | 0.05 |",
        "| `opt.name` | adam | sgd |",
        "| `seed` | 1 | _absent_ |",
        "| `wd` | _absent_ | 0.01 |",
        "| key | A | B | Δ |",
        "| `loss` | 0.5 | 0.3 | ▼ -0.2 (-40.0%) |",
        "| metric | last A | last B | Δ last | min A → B | max A → B |",
        "| `loss` | 0.5 | 0.3 | ▼ -0.2 | 0.5 → 0.3 | 1 → 0.8 |",
        "| `ñ` | _absent_ | nan |  | _absent_ → nan | _absent_ → nan |",
        f"- `{shas[0][:7]}` add warmup",
        f"- `{shas[1][:7]}` tune \\| schedule",
        "#### Code",
    ):
        assert row in md, row
    assert "_1 metric unchanged._" in md
    # commit and branch are in the sides' table, not repeated in a metadata section
    assert "#### Metadata" not in md and "`code.commit`" not in md
    assert f"| `{shas[1][:12]}` |" in md


def test_json_parses_and_matches_the_domain_diff(
    cli: Cli, two_runs: tuple[str, str, list[str]]
) -> None:
    a, b, shas = two_runs
    result = cli("diff", "baseline", "candidate", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["a"]["id"] == a and data["b"]["id"] == b
    config = {c["key"]: c for c in data["config"]}
    assert config["lr"]["kind"] == "changed" and config["wd"]["kind"] == "added"
    assert config["lr"]["delta"] == pytest.approx(-0.05)
    metrics = {m["key"]: m for m in data["metrics"]}
    assert metrics["ñ"]["b"]["last"] == "NaN"  # strict JSON: NaN as a string
    assert metrics["acc"]["delta"] == {"last": 0.0, "min": 0.0, "max": 0.0}
    assert [c["sha"] for c in data["code"]["commits"]] == shas
    assert data["code"]["status"] == "compared" and data["code"]["more"] == 0
    assert json.loads(cli("diff", "baseline", "candidate", "--json").stdout) == data


def test_b_on_older_code_says_behind(cli: Cli, two_runs: tuple[str, str, list[str]]) -> None:
    out = cli("diff", "candidate", "baseline").stdout
    assert "is 2 commits behind A's" in out
    assert "add warmup" not in out


def test_unknown_run_is_one_line_and_exit_4(
    cli: Cli, two_runs: tuple[str, str, list[str]]
) -> None:
    result = cli("diff", "baseline", "no-such-run")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "gittrack: error: no run matches 'no-such-run' (by id, id prefix or name), and no run "
        "was made on a branch of that name"]


def test_bad_format_is_a_usage_error(cli: Cli, two_runs: tuple[str, str, list[str]]) -> None:
    assert cli("diff", "baseline", "candidate", "--format", "html").exit_code == 2


# -- review rules (shared with compare): goals, sides, noise, data, histograms, branches ----

GOLDEN = Path(__file__).parent / "golden"


def _review_run(run_id: str, rows: list[dict[str, Any]], lr: float, use: str) -> None:
    run = start_run(id=run_id, name=run_id, project="p", config={"lr": lr})
    run.define_metric("loss", goal="minimize")
    run.define_metric("acc", summary="max")
    for row in rows:
        run.log(row)
    run.use_artifact(use)
    run.finish()


@pytest.fixture
def review(repo: Path, fast_settings: dict[str, object]) -> None:
    """On main: data:v0 and data:v1 logged; run ``base`` (data:v0, loss 0.5, acc 0.6) and run
    ``worse`` (loss 0.9); on branch bob/l2, a commit later, run ``l2`` (data:v1, loss 0.6: up,
    acc 0.8: up); ``other`` has no goal, ``hist`` is a histogram."""
    data = repo.parent / "data.csv"
    for content in ("1,2\n", "1,2,3\n"):
        data.write_text(content)
        make_run(name="prep", artifact=("data", data), artifact_type="dataset",
                 settings=fast_settings)
    hist = gittrack.Histogram(np_histogram=([1, 4, 2, 0], [0, 1, 2, 3, 4]))
    _review_run("base", [{"loss": 1.0, "acc": 0.5, "other": 1.0},
                         {"loss": 0.5, "acc": 0.6, "other": 2.0, "hist": hist}], 0.1, "data:v0")
    _review_run("worse", [{"loss": 0.9, "acc": 0.1}], 0.3, "data:v0")
    git(repo, "checkout", "-q", "-b", "bob/l2")
    _commit(repo, "l2 regularisation")
    _review_run("l2", [{"loss": 0.9, "acc": 0.7, "other": 2.0},
                       {"loss": 0.6, "acc": 0.8, "other": 3.0,
                        "hist": gittrack.Histogram(np_histogram=([4, 1, 0, 2], [0, 1, 2, 3, 4]))}],
                0.05, "data:v1")


def _normalised(text: str) -> str:
    text = re.sub(r"\b[0-9a-f]{12}\b", "COMMIT", text)
    return re.sub(r"(`|    )[0-9a-f]{7}\b", r"\1SHORT", text)


@pytest.mark.parametrize(("fmt", "golden"), [("markdown", "diff.md"), ("text", "diff.txt")])
def test_diff_of_two_branches_matches_the_golden_file(cli: Cli, review: None, fmt: str,
                                                      golden: str) -> None:
    result = cli("diff", "main", "bob/l2", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert_golden(GOLDEN / golden, _normalised(result.stdout))


def test_branch_names_pick_the_best_run_by_goal(cli: Cli, review: None) -> None:
    doc = json.loads(cli("diff", "main", "bob/l2", "--json").stdout)
    assert (doc["a"]["name"], doc["b"]["name"]) == ("base", "l2")  # lowest loss on main
    by_acc = json.loads(cli("diff", "main", "l2", "--metric", "acc", "--json").stdout)
    assert by_acc["a"]["name"] == "base"  # acc.max 0.6 beats worse's 0.1
    assert cli("diff", "worse", "l2").exit_code == 0  # names still work beside branches


def test_goals_make_changes_good_or_bad(repo: Path, review: None) -> None:
    r = discover(repo)
    diff = compute_diff(r, resolve_run(r, "base"), resolve_run(r, "l2"))
    summary = {c.key: c for c in diff.summary}
    assert (summary["loss"].goal, summary["loss"].verdict) == ("minimize", "bad")  # went up
    assert (summary["acc.max"].goal, summary["acc.max"].verdict) == ("maximize", "good")
    assert (summary["other"].goal, summary["other"].verdict) == (None, "neutral")
    text = render_text(diff).split("metrics (B - A)")[0]  # the summary section
    lines = {line.split()[1]: line for line in text.splitlines()
             if line.startswith("  ") and len(line.split()) > 1}
    assert click.style("(+0.1, +20.0%)", fg="red") in lines["loss"]
    assert click.style("(+0.2, +33.3%)", fg="green") in lines["acc.max"]
    assert click.style("(+1, +50.0%)", fg="bright_black") in lines["other"]
    metrics = {m.key: m for m in diff.metrics}
    assert metrics["loss"].verdict == "bad" and metrics["acc"].verdict == "good"


def test_sides_always_show_commit_branch_and_data(cli: Cli, repo: Path, review: None) -> None:
    out = cli("diff", "base", "worse").stdout  # same commit, same branch, same data
    first, second = out.splitlines()[:2]
    sha = git(repo, "rev-parse", "main").strip()[:12]
    assert first.startswith("A  base (base)") and f"commit {sha}" in first
    assert "branch main" in first and "data used data:v0" in first
    assert second.startswith("B  worse (worse)") and "branch main" in second
    doc = json.loads(cli("diff", "base", "l2", "--json").stdout)
    assert doc["a"]["branch"] == "main" and doc["b"]["branch"] == "bob/l2"
    assert doc["b"]["used"] == ["data:v1"] and len(doc["b"]["code_commit"]) == 40
    assert doc["data"] == [{"key": "data", "kind": "changed", "a": "data:v0", "b": "data:v1",
                            "delta": None, "relative": None, "goal": None, "verdict": None}]
    assert "~ data  data:v0 → data:v1" in cli("diff", "base", "l2").stdout
    text, md = (cli("diff", "base", "l2", "--format", f).stdout for f in ("text", "markdown"))
    for shown in (text, md):  # in the sides' lines only, not repeated under metadata
        assert "code.commit" not in shown and "code.branch" not in shown
    assert "bob/l2" in text.splitlines()[1] and "| branch | `main` | `bob/l2` |" in md
    assert {"code.commit", "code.branch"} <= {c["key"] for c in doc["metadata"]}  # JSON: kept


def test_noise_only_when_asked(cli: Cli, review: None) -> None:
    quiet = cli("diff", "base", "l2").stdout
    assert "duration" not in quiet and "_runtime" not in quiet and "_timestamp" not in quiet
    loud = cli("diff", "base", "l2", "--noise").stdout
    assert loud.count("~ duration") == 1 and "~ created_at" in loud and "~ ended_at" in loud
    doc = json.loads(cli("diff", "base", "l2", "--noise", "--json").stdout)
    assert {"duration", "created_at", "updated_at"} <= {c["key"] for c in doc["metadata"]}


def test_histograms_are_sparklines(cli: Cli, review: None) -> None:
    out = cli("diff", "base", "l2").stdout
    assert "histogram[" not in out
    assert "▃█▅▁ → █▃▁▅" in out
