"""Reading W&B run folders made by wandb itself (offline), value by value."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from gittrack.api.public import Api
from gittrack.errors import FormatError, NotFoundError, UsageError
from gittrack.formats.histogram import Histogram
from gittrack.formats.media.image import Image
from gittrack.formats.media.table import Table
from gittrack.formats.media.text import Html
from gittrack.git.repo import discover
from gittrack.importers import wandb as reader
from gittrack.importers.batch import import_all
from gittrack.importers.common import SourceRun

# Tests over the session's W&B runs are slow (wandb takes seconds to make them).
slow = pytest.mark.slow


def _by_name(wandb_dir: Path) -> dict[str | None, SourceRun]:
    runs = [reader.read_run(folder) for folder in reader.find_runs(wandb_dir)]
    return {run.name: run for run in runs}


@slow
def test_an_offline_run_reads_back_as_wandb_recorded_it(wandb_dir: Path) -> None:
    run = _by_name(wandb_dir)["first"]
    assert run.kind == "wandb" and run.project == "imports"
    project, folder = run.key.split("/")  # the identity of an import: project and folder name
    assert project == "imports" and Path(run.location).name == folder
    assert run.tags == ("base", "cpu") and run.notes == "a small run"
    assert run.config == {"lr": 0.01, "layers": [8, 4], "optim": {"name": "adam", "beta": 0.9},
                          "batch": 32}
    assert run.exit_code == 0
    assert [r.step for r in run.rows] == [0, 1, 2, 3, 4, 5, 9]
    for step in range(6):
        values = run.rows[step].values
        assert values["loss"] == 1.0 / (step + 1) and values["acc"] == step / 10
        assert values["phase"] == "train"
    assert run.rows[-1].values == {"eval/acc": 0.75}
    stamps = [r.timestamp for r in run.rows]
    assert all(s is not None for s in stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
    assert run.start_time is not None and run.start_time <= stamps[0]  # type: ignore[operator]


@slow
def test_the_summary_is_the_last_one_wandb_kept_with_the_overrides(wandb_dir: Path) -> None:
    summary = _by_name(wandb_dir)["first"].summary
    assert summary["loss"] == 0.001  # run.summary["loss"] = ... after the last log
    assert summary["best"] == {"epoch": 3}
    assert summary["acc"] == 0.5 and summary["eval/acc"] == 0.75
    assert not {"_wandb", "_step", "_runtime", "_timestamp"} & set(summary)
    assert "sample" not in summary  # W&B's reference to its image file: the image is media
    assert summary["weights"]["_type"] == "histogram" and summary["weights"]["values"] == [1, 2, 3]


@slow
def test_images_histograms_tables_and_html_become_gittrack_media(wandb_dir: Path) -> None:
    rows = _by_name(wandb_dir)["first"].rows
    image = rows[2].values["sample"]
    assert isinstance(image, Image) and image.caption == "step two"
    assert (image.width, image.height) == (5, 4)
    assert image.numpy().reshape(-1).tolist()[:6] == [0, 1, 2, 3, 4, 5]
    histogram = rows[3].values["weights"]
    assert isinstance(histogram, Histogram)
    assert list(histogram.counts) == [1, 2, 3]
    table = rows[3].values["preds"]
    assert isinstance(table, Table) and table.columns == ["id", "label"]
    assert table.data == [[1, "cat"], [2, "dog"]]
    page = rows[3].values["page"]
    assert isinstance(page, Html) and "<p>hello</p>" in page.data


@slow
def test_an_exit_code_makes_a_failed_run_with_its_steps(wandb_dir: Path) -> None:
    run = _by_name(wandb_dir)["second"]
    assert run.exit_code == 1
    assert [(r.step, r.values["loss"]) for r in run.rows] == [(0, 2.0), (5, 1.0), (10, 0.0)]


@slow
def test_a_folder_holding_wandb_or_one_run_folder_is_found(wandb_dir: Path) -> None:
    folders = reader.find_runs(wandb_dir)
    assert len(folders) == 2  # latest-run, a link to one of them, is not a third
    assert reader.find_runs(wandb_dir.parent) == folders
    assert reader.find_runs(folders[0]) == [folders[0]]
    with pytest.raises(NotFoundError, match="nowhere"):
        reader.find_runs(wandb_dir / "nowhere")


@slow
def test_a_run_killed_mid_write_keeps_its_steps_and_is_failed(
        wandb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(wandb_dir, "second", tmp_path)
    stream = next(folder.glob("run-*.wandb"))
    data = stream.read_bytes()
    stream.write_bytes(data[:-8])  # into the last record, the exit record
    run = reader.read_run(folder)
    assert run.exit_code == 1  # no exit record: W&B's "crashed", imported as failed
    assert [r.values["loss"] for r in run.rows] == [2.0, 1.0, 0.0]


@slow
def test_a_damaged_run_file_is_an_error_naming_it(wandb_dir: Path, tmp_path: Path) -> None:
    folder = _copy(wandb_dir, "first", tmp_path)
    stream = next(folder.glob("run-*.wandb"))
    data = bytearray(stream.read_bytes())
    data[200] ^= 0xFF
    stream.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=stream.name):
        reader.read_run(folder)
    stream.write_bytes(b"not a wandb file at all")
    with pytest.raises(FormatError, match="not a W&B run file"):
        reader.read_run(folder)


def test_a_synced_folder_without_its_run_file_reads_files(tmp_path: Path) -> None:
    folder = tmp_path / "run-20240101_000000-abc123"
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "config.yaml").write_text(
        "wandb_version: 1\n_wandb:\n  value: {}\nlr:\n  desc: null\n  value: 0.5\n")
    (folder / "files" / "wandb-summary.json").write_text(
        json.dumps({"loss": 0.1, "_step": 1, "_runtime": 2.0, "_wandb": {"runtime": 2}}))
    (folder / "files" / "wandb-history.jsonl").write_text(
        '{"loss": 0.2, "_step": 0, "_timestamp": 1700000000.5}\n'
        '{"loss": 0.1, "_step": 1, "_timestamp": 1700000001.5}\n')
    run = reader.read_run(folder)
    assert run.key == "/run-20240101_000000-abc123" and run.config == {"lr": 0.5}
    assert run.summary == {"loss": 0.1}
    assert [(r.step, r.timestamp, dict(r.values)) for r in run.rows] == [
        (0, 1700000000.5, {"loss": 0.2}), (1, 1700000001.5, {"loss": 0.1})]


def _copy(wandb_dir: Path, name: str, tmp_path: Path) -> Path:
    for folder in reader.find_runs(wandb_dir):
        if reader.read_run(folder).name == name:
            return Path(shutil.copytree(folder, tmp_path / folder.name))
    raise AssertionError(name)


@slow
def test_an_imported_run_has_wandb_history_config_summary_and_media(
        wandb_dir: Path, repo: Path) -> None:
    report = import_all(discover(repo), reader.sources(wandb_dir))
    assert len(report.imported) == 2 and not report.present and not report.skipped
    views = {view.name: view for view in Api(repo).runs()}
    first = views["first"]
    source = _by_name(wandb_dir)["first"]
    assert first.config == source.config and first.summary == source.summary
    assert first.project == "imports" and list(first.tags) == ["base", "cpu"]
    assert first.notes == "a small run" and first.state == "finished"
    history = first.history()
    assert history["_step"].tolist() == [r.step for r in source.rows]
    assert history["_timestamp"].tolist() == pytest.approx([r.timestamp for r in source.rows])
    for row, (_, line) in zip(source.rows, history.iterrows(), strict=True):
        for key, value in row.values.items():
            if isinstance(value, (int, float, str)):
                assert line[key] == value, (row.step, key)
    assert first.info.document["imported_from"] == {"kind": "wandb", "source": source.location}
    [(step, image)] = list(first.media("sample"))
    assert step == 2 and image.caption == "step two" and (image.width, image.height) == (5, 4)
    [(step, table)] = list(first.media("preds"))
    assert step == 3 and table.data == [[1, "cat"], [2, "dog"]]
    assert views["second"].state == "failed"
    again = import_all(discover(repo), reader.sources(wandb_dir))
    assert not again.imported and {i.run_id for i in again.present} == {
        i.run_id for i in report.imported}
    assert len(Api(repo).runs()) == 2


def test_media_out_of_the_run_folder_or_damaged_is_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "run-20240101_000000-evil"
    (folder / "files").mkdir(parents=True)
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "files" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut")
    row = {"_step": 0, "loss": 1.0, "img": {"_type": "image-file", "path": "../../outside.png"},
           "bad": {"_type": "image-file", "path": "broken.png"},
           "tbl": {"_type": "table-file", "path": "/etc/passwd"}, "list": [1, 2]}
    (folder / "files" / "wandb-history.jsonl").write_text(json.dumps(row) + "\n")
    [read] = reader.read_run(folder).rows
    assert dict(read.values) == {"loss": 1.0}


def test_a_history_line_with_a_bad_step_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "run-20240101_000000-bad"
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "wandb-history.jsonl").write_text('{"_step": "x", "loss": 1}\n')
    with pytest.raises(FormatError, match=r"wandb-history\.jsonl:1: _step"):
        reader.read_run(folder)


def test_without_wandb_installed_the_error_says_which_extra(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "offline-run-20240101_000000-x"
    folder.mkdir()
    (folder / "run-x.wandb").write_bytes(b":W&B\xe1\xbe\x00")
    monkeypatch.setitem(sys.modules, "wandb.proto", None)  # import fails as if absent
    with pytest.raises(UsageError, match=re.escape("pip install 'gittrack[wandb]'")):
        reader.read_run(folder)
