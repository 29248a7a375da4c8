from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gittrack
from gittrack.errors import UsageError
from gittrack.formats.jsonio import json_dumps, json_safe
from gittrack.runs.export import (
    EXPORT_FORMATS,
    export_run,
    export_runs,
    write_json,
    write_table,
)
from tests.helpers.runs import make_run
from tests.helpers.tables import assert_tables_equal, canon, read_csv, read_jsonl


def read_back(path: Path, fmt: str, schema: pa.Schema) -> pa.Table | list[dict[str, Any]]:
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "csv":
        return read_csv(path, schema)
    return read_jsonl(path)


def assert_round_trip(path: Path, fmt: str, expected: pa.Table) -> None:
    actual = read_back(path, fmt, expected.schema)
    if isinstance(actual, list):
        assert actual == json_safe(expected.to_pylist())
    else:
        assert_tables_equal(actual, expected)


TRICKY = pa.table({
    "_step": pa.array([0, 1, 2, 3], pa.int64()),
    "loss": pa.array([0.30000000000000004, float("nan"), None, float("-inf")]),
    "ñ/λ 損失": pa.array([None, float("inf"), 1e-300, 2.5]),
    "big": pa.array([2**62, None, -(2**63), 0], pa.int64()),
    "ok": pa.array([True, None, False, True]),
    "text": pa.array(["", None, "a,b\n\"c\"", "ü"]),
    "edges": pa.array([[0.0, 1.0], None, [], [0.5, 1.5, 2.5]], pa.list_(pa.float64())),
})


def test_json_safe_and_dumps() -> None:
    value = {"a": [float("nan"), float("inf"), -math.inf, 1.5], "ü": {"x": None}}
    assert json_safe(value) == {"a": ["NaN", "Infinity", "-Infinity", 1.5], "ü": {"x": None}}
    text = json_dumps(value)
    assert "ü" in text and "NaN" in text
    assert json.loads(text)["a"][0] == "NaN"
    assert json_dumps({"x": 1}) == '{"x": 1}'


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_write_table_round_trips_exactly(tmp_path: Path, fmt: str) -> None:
    path = write_table(TRICKY, tmp_path / f"t.{fmt}", fmt)
    assert path == tmp_path / f"t.{fmt}"
    assert_round_trip(path, fmt, TRICKY)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"t.{fmt}"]  # no temp files left


def test_write_json_is_strict_json(tmp_path: Path) -> None:
    path = write_json({"x": float("nan"), "y": [float("inf")]}, tmp_path / "s.json")
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"x": "NaN", "y": ["Infinity"]}
    assert "NaN," not in text and "Infinity]" not in text  # no bare, non-standard tokens


def test_unknown_format_and_file_as_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="csv, parquet, jsonl"):
        write_table(TRICKY, tmp_path / "t.xml", "xml")
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        export_runs([], tmp_path / "file", "csv")


@pytest.fixture
def run_id(repo: Path, fast_settings: dict[str, object]) -> str:
    rows = [{"loss": 1.0, "acc": 0},
            {"loss": float("nan"), "w": gittrack.Histogram(np.arange(10.0), num_bins=4)},
            {"ñ/λ": float("inf"), "note": ""},
            {"loss": -math.inf, "acc": 3, "flag": True}]
    return make_run(rows, project="p", name="exp",
                    config={"lr": 0.1, "nested": {"é": [1, 2]}}, settings=fast_settings).id


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_run_writes_every_file(tmp_path: Path, run_id: str, fmt: str) -> None:
    view = gittrack.Api(".").run(run_id)
    result = export_run(view, tmp_path / "out", fmt)
    folder = tmp_path / "out" / run_id
    assert result.directory == folder
    assert [p.name for p in result.files] == [
        f"history.{fmt}", f"histograms.{fmt}", "config.json", "summary.json", "metadata.json"]
    assert (result.rows, result.histogram_rows) == (4, 1)
    assert_round_trip(folder / f"history.{fmt}", fmt, view.history_arrow())
    assert_round_trip(folder / f"histograms.{fmt}", fmt, view.histograms(format="arrow"))
    assert json.loads((folder / "config.json").read_text("utf-8")) == view.config
    assert json.loads((folder / "metadata.json").read_text("utf-8")) == json_safe(view.metadata)
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    assert summary["loss"] == "-Infinity" and summary["ñ/λ"] == "Infinity"
    assert canon(summary) == canon(json_safe(view.summary))


def test_export_without_histograms_and_twice(
    tmp_path: Path, repo: Path, fast_settings: dict[str, object]
) -> None:
    run = gittrack.init(project="p", settings=fast_settings)
    run.log({"x": 1})
    run.finish()
    view = gittrack.Api(".").run(run.id)
    first = export_runs([view, view], tmp_path, "parquet")
    assert len(first) == 1
    assert not (tmp_path / run.id / "histograms.parquet").exists()
    again = export_runs([view], tmp_path, "parquet")  # files are replaced, not refused
    assert again[0].files == first[0].files
    assert json.loads(json_dumps(first[0].to_dict()))["id"] == run.id


def test_export_writes_the_console_output_as_output_log(repo: Path, tmp_path: Path) -> None:
    quiet = gittrack.init(settings={"quiet": True})
    print("epoch 1\repoch 2")
    quiet.finish()
    off = gittrack.init(settings={"quiet": True, "console": "off"})
    print("not captured")
    off.finish()
    printed = export_run(gittrack.Api().run(quiet.id), tmp_path / "out", "csv")
    assert (printed.directory / "output.log").read_text() == "epoch 2\n"
    assert printed.directory / "output.log" in printed.files
    silent = export_run(gittrack.Api().run(off.id), tmp_path / "out", "csv")
    assert not (silent.directory / "output.log").exists()


def test_export_writes_an_images_annotations_beside_it(repo: Path, tmp_path: Path) -> None:
    """An image logged with boxes and masks: its file, and beside it the next item's JSON
    (the boxes, each mask as a base64 PNG), both listed in the exported media index."""
    run = gittrack.init(settings={"quiet": True})
    mask = np.arange(12).reshape(3, 4) % 3
    run.log({"seg": gittrack.Image(np.zeros((3, 4), np.uint8),
                                   masks={"m": {"mask_data": mask}})})
    run.finish()
    result = export_run(gittrack.Api(".").run(run.id), tmp_path, "parquet")
    folder = tmp_path / run.id / "media" / "seg"
    assert len(list(folder.iterdir())) == 2
    (png,) = folder.glob("0_*_0.png")
    (sidecar,) = folder.glob(f"{png.name[:-6]}_1.json")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert set(json.loads(sidecar.read_text())["masks"]) == {"m"}
    index = pq.read_table(tmp_path / run.id / "media.parquet")
    assert index.column("type").to_pylist() == ["image", "image-annotations"]
    assert result.media_files == 2
