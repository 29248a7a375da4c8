from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.repos import git

Cli = Callable[..., CliResult]
MakeRun = Callable[..., str]


def fields(text: str) -> dict[str, str]:
    """``label  value`` lines as a dict (the first occurrence of each label)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        label, _, value = line.strip().partition("  ")
        if value:
            out.setdefault(label, value.strip())
    return out


@pytest.fixture
def rich_run(repo: Path, fast_settings: dict[str, object]) -> str:
    run = gittrack.init(name="rich-run", project="proj", group="grp", job_type="train",
                        tags=["a", "b"], notes="some notes",
                        config={"lr": 0.01, "optimizer": {"name": "adam", "betas": [0.9, 0.99]}},
                        settings=fast_settings)
    run.define_metric("val/acc", summary="max")
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1), "val/acc": step / 10,
                 "w": gittrack.Histogram([1.0, 2.0, 3.0], num_bins=4)})
    run.finish()
    return run.id


@pytest.mark.parametrize("spec", ["id", "prefix", "name", "ref"])
def test_show_by_id_prefix_name_or_ref(cli: Cli, rich_run: str, spec: str) -> None:
    arg = {"id": rich_run, "prefix": rich_run[:12], "name": "rich-run",
           "ref": f"refs/gittrack/runs/{rich_run}"}[spec]
    result = cli("show", arg)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"run rich-run  {rich_run}"


def test_show_prints_metadata_code_config_and_summary(
    repo: Path, cli: Cli, rich_run: str
) -> None:
    out = cli("show", rich_run).stdout
    shown = fields(out)
    assert shown["state"] == "finished"
    assert (shown["project"], shown["group"], shown["job type"]) == ("proj", "grp", "train")
    assert (shown["tags"], shown["notes"]) == ("a, b", "some notes")
    assert shown["exit code"] == "0" and shown["steps"] == "5"
    assert shown["created"][:4].isdigit() and shown["duration"].endswith("s")
    assert "python" in shown and "host" in shown and "command" in shown
    assert shown["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert (shown["branch"], shown["dirty"]) == ("main", "no")
    assert shown["lr"] == "0.01"
    assert shown["optimizer.name"] == "adam"
    assert shown["optimizer.betas"] == "[0.9, 0.99]"
    assert shown["loss"] == "0.2"
    assert shown["val/acc.max"] == "0.4"
    assert shown["w"] == "histogram[4]"
    for title in ("code", "config", "summary"):
        assert title in out.splitlines()


def test_show_json(repo: Path, cli: Cli, rich_run: str) -> None:
    data = json.loads(cli("show", rich_run[:10], "--json").stdout)
    assert set(data) == {"metadata", "config", "summary"}
    view = gittrack.Api(".").run(rich_run)
    assert data["metadata"]["id"] == rich_run
    assert data["metadata"]["code"]["branch"] == "main"
    assert data["config"] == view.config
    assert data["summary"]["val/acc"] == {"max": 0.4}
    assert data["summary"]["w"]["_type"] == "histogram"


def test_nan_and_infinity_in_json(cli: Cli, make_run: MakeRun) -> None:
    run_id = make_run(metrics=lambda i: {"a": float("nan"), "b": float("-inf")})
    summary = json.loads(cli("show", run_id, "--json").stdout)["summary"]
    assert summary == {"a": "NaN", "b": "-Infinity"}
    assert fields(cli("show", run_id).stdout)["a"] == "nan"


def test_empty_config_and_a_running_run(
    repo: Path, cli: Cli, fast_settings: dict[str, object]
) -> None:
    run = gittrack.init(name="live", settings=fast_settings)
    out = cli("show", "live").stdout
    assert fields(out)["state"] == "running"
    assert "(empty)" in out
    run.finish()


@pytest.mark.parametrize(("spec", "message"), [
    ("nothing-like-this", "no run matches 'nothing-like-this'"),
    ("0", "is a prefix of 2 runs"),
])
def test_unknown_or_ambiguous_run(cli: Cli, make_run: MakeRun, spec: str, message: str) -> None:
    make_run()
    make_run()
    result = cli("show", spec)
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.startswith("gittrack: error:") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_two_runs_with_one_name(cli: Cli, make_run: MakeRun) -> None:
    make_run(name="twin")
    make_run(name="twin")
    result = cli("show", "twin")
    assert result.exit_code == 4
    assert "2 runs are named 'twin'" in result.stderr


def test_show_console_prints_what_the_run_printed(cli: Cli, repo: Path) -> None:
    import sys

    run = gittrack.init(settings={"quiet": True})
    print("epoch 1: \x1b[31mloss\x1b[0m 0.5")
    for percent in (10, 60, 100):
        sys.stderr.write(f"\rtraining {percent}%")
    sys.stderr.write("\n")
    print("\x1b]0;a title set by a hostile run\x07\x1b[2Jdone")
    run.finish()
    result = cli("show", run.id, "--console")
    assert result.exit_code == 0, result.stderr
    # colours are dropped in a pipe; no escape sequence reaches the terminal
    assert result.stdout.splitlines()[:2] == ["epoch 1: loss 0.5", "training 100%"]
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert result.stdout.rstrip("\n").endswith("done")
    as_json = json.loads(cli("show", run.id, "--console", "--json").stdout)
    assert as_json["console"].startswith("epoch 1: \x1b[31mloss\x1b[0m 0.5\ntraining 100%\n")
    assert "config" in as_json


def test_show_console_of_a_run_that_printed_nothing_prints_nothing(cli: Cli, repo: Path) -> None:
    run = gittrack.init(settings={"quiet": True, "console": "off"})
    run.finish()
    result = cli("show", run.id, "--console")
    assert result.exit_code == 0 and result.stdout == ""

def test_show_media_lists_each_key(cli: Cli, media_run: str) -> None:
    result = cli("show", media_run, "--media", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"key": "examples", "type": "image", "count": 3, "first_step": 0, "last_step": 5,
         "bytes": 60},
        {"key": "notes", "type": "text", "count": 1, "first_step": 3, "last_step": 3,
         "bytes": 5}]
    text = cli("show", media_run, "--media")
    assert text.exit_code == 0, text.stderr
    lines = [line.split() for line in text.stdout.splitlines()]
    assert ["key", "type", "items", "steps", "bytes"] in lines
    assert ["examples", "image", "3", "0..5", "60", "B"] in lines
    assert ["notes", "text", "1", "3", "5", "B"] in lines


def test_show_media_of_a_run_without_media(cli: Cli, rich_run: str) -> None:
    assert json.loads(cli("show", rich_run, "--media", "--json").stdout) == []
    assert "(no media)" in cli("show", rich_run, "--media").stdout

def test_show_system_prints_the_latest_sample(repo: Path, cli: Cli) -> None:
    with gittrack.init(name="sampled", settings={"quiet": True, "system_interval": 3600}) as run:
        run.log({"x": 1})
    out = cli("show", "sampled", "--system").stdout
    section = out[out.index("\nsystem\n"):]
    assert "latest of 1 sample," in section
    shown = fields(section)
    assert float(shown["system.proc.memory.rssMB"]) > 0 and "system.cpu" in shown
    assert "system\n" not in cli("show", "sampled").stdout  # only when asked


def test_show_system_json(repo: Path, cli: Cli) -> None:
    with gittrack.init(name="sampled", settings={"quiet": True, "system_interval": 3600}) as run:
        run.log({"x": 1})
    data = json.loads(cli("show", "sampled", "--system", "--json").stdout)
    assert data["summary"] == {"x": 1}
    assert data["system"]["system.proc.memory.rssMB"] > 0
    assert set(data["system"]) >= {"system.cpu", "system.memory", "system.network.sent"}
    assert "system" not in json.loads(cli("show", "sampled", "--json").stdout)


def test_show_system_of_a_run_without_samples(repo: Path, cli: Cli) -> None:
    with gittrack.init(name="quiet", settings={"quiet": True, "system_metrics": False}) as run:
        run.log({"x": 1})
    assert "(no samples" in cli("show", "quiet", "--system").stdout
    assert json.loads(cli("show", "quiet", "--system", "--json").stdout)["system"] == {}
