"""`gittrack import wandb PATH` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from gittrack.api.public import Api
from tests.helpers.cli import Cli
from tests.helpers.sources import damaged_wandb_run, synced_wandb_run


def test_import_prints_what_it_made_then_finds_it(cli: Cli, repo: Path, tmp_path: Path) -> None:
    wandb_dir = tmp_path / "wandb"
    synced_wandb_run(wandb_dir, "one", [3.0, 2.0], {"lr": 0.5})
    synced_wandb_run(wandb_dir, "two", [1.0])
    first = cli("import", "wandb", str(tmp_path))
    assert first.exit_code == 0, first.stderr
    assert "2 runs imported, 0 already present" in first.stdout
    assert f"imported {wandb_dir / 'run-20240101_000000-one'} as run" in first.stdout
    again = cli("import", "wandb", str(wandb_dir), "--json")
    assert again.exit_code == 0
    lines = [json.loads(line) for line in again.stdout.splitlines()]  # as import tensorboard
    assert [line["created"] for line in lines] == [False, False]
    assert {line["run_id"] for line in lines} == {v.id for v in Api(repo).runs()}
    assert {Path(line["source"]).name for line in lines} == {
        "run-20240101_000000-one", "run-20240101_000000-two"}
    assert len(Api(repo).runs()) == 2


def test_a_damaged_run_is_reported_and_the_others_imported(
        cli: Cli, repo: Path, tmp_path: Path) -> None:
    wandb_dir = tmp_path / "wandb"
    synced_wandb_run(wandb_dir, "fine", [1.0])
    damaged_wandb_run(wandb_dir, "broken")
    result = cli("import", "wandb", str(wandb_dir))
    assert result.exit_code == 1  # a script notices; the good run is imported all the same
    assert "1 run imported, 0 already present, 1 skipped" in result.stdout
    [line] = [x for x in result.stderr.splitlines() if x.startswith("cannot import")]
    assert "offline-run-20240101_000001-broken:" in line
    assert "run-broken.wandb" in line and "not a W&B run file" in line
    assert "1 of 2 runs" in result.stderr
    assert [v.history()["loss"].tolist() for v in Api(repo).runs()] == [[1.0]]


def test_a_path_without_wandb_runs_is_one_line_naming_it(
        cli: Cli, repo: Path, tmp_path: Path) -> None:
    for path in (tmp_path / "nowhere", tmp_path):
        result = cli("import", "wandb", str(path))
        assert result.exit_code == 4
        assert result.stderr.count("\n") == 1 and str(path) in result.stderr
