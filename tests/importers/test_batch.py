"""Importing many source runs: once each, a damaged one skipped with its reason."""

from __future__ import annotations

from pathlib import Path

from gittrack.api.public import Api
from gittrack.git.repo import discover
from gittrack.importers import wandb as reader
from gittrack.importers.batch import import_all
from tests.helpers.sources import damaged_wandb_run, synced_wandb_run


def test_a_damaged_run_is_skipped_with_its_reason_and_the_others_imported(
        repo: Path, tmp_path: Path) -> None:
    wandb_dir = tmp_path / "wandb"
    synced_wandb_run(wandb_dir, "good1", [0.5, 0.25], {"lr": 0.1})
    bad = damaged_wandb_run(wandb_dir, "bad1")
    report = import_all(discover(repo), reader.sources(wandb_dir))
    assert len(report.imported) == 1
    [skipped] = report.skipped
    assert skipped.source == str(bad.resolve()) and "not a W&B run file" in str(skipped.error)
    [view] = Api(repo).runs()
    assert view.config == {"lr": 0.1} and view.summary == {"loss": 0.25}
    assert view.history()["loss"].tolist() == [0.5, 0.25]
    assert skipped.to_dict() == {"source": skipped.source, "error": skipped.error}
    [made] = [o for o in report.outcomes if o.run is not None]
    assert made.to_dict() == {"source": made.source, "run_id": view.id, "name": view.name,
                              "created": True}


def test_importing_again_finds_the_run_and_project_is_chosen(repo: Path, tmp_path: Path) -> None:
    folder = synced_wandb_run(tmp_path / "wandb", "abc", [1.0])
    first = import_all(discover(repo), reader.sources(folder), project="mine")
    again = import_all(discover(repo), reader.sources(folder), project="mine")
    assert len(first.imported) == 1 and not again.imported
    assert [i.run_id for i in again.present] == [i.run_id for i in first.imported]
    [view] = Api(repo).runs()
    assert view.project == "mine"
