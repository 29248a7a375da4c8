from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.repos import git
from tests.helpers.runs import make_run

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
                   "(only in B)", "1 metric unchanged", "~ code.commit",
                   "is 2 commits ahead", "add warmup", "tune | schedule"):
        assert needle in out, needle
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
        "#### Metadata",
        f"- `{shas[0][:7]}` add warmup",
        f"- `{shas[1][:7]}` tune \\| schedule",
        "#### Code",
    ):
        assert row in md, row
    assert "_1 metric unchanged._" in md
    assert "| `code.commit` | " in md and f" | {shas[1][:12]} |" in md


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
        "gittrack: error: no run matches 'no-such-run' (by id, id prefix or name)"]


def test_bad_format_is_a_usage_error(cli: Cli, two_runs: tuple[str, str, list[str]]) -> None:
    assert cli("diff", "baseline", "candidate", "--format", "html").exit_code == 2
