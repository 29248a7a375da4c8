from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pygit2
import pytest

import gittrack
from gittrack.formats.jsonio import json_safe
from gittrack.runs.run_storage import RunStorage
from gittrack.storage.entry import ManifestEntry
from tests.helpers.cli import CliResult
from tests.helpers.forge_runs import forge_media_run
from tests.helpers.runs import make_run
from tests.helpers.tables import assert_tables_equal, canon, read_csv, read_jsonl

pd = pytest.importorskip("pandas")

Cli = Callable[..., CliResult]


@pytest.fixture
def runs(repo: Path, fast_settings: dict[str, object]) -> list[str]:
    """Two runs with NaN, ±inf, sparse, unicode, string, int and bool keys; one histogram."""
    rows = []
    for step in range(50):
        row: dict[str, object] = {"loss": 1.0 / (step + 1)}
        if step % 7 == 0:
            row["val/ñ_λ 精度"] = float("nan") if step == 14 else step / 50
        if step % 10 == 3:
            row["grad"] = math.inf if step == 13 else -math.inf
        if step == 20:
            row.update({"phase": "warm", "epoch": 2, "ok": True, "empty": ""})
            row["w"] = gittrack.Histogram(np.linspace(0.0, 1.0, 100), num_bins=8)
        rows.append(row)
    first = make_run(rows, project="p", name="first", config={"lr": 0.1}, settings=fast_settings)
    second = make_run([{"only": 1}], project="p", name="second", settings=fast_settings)
    return [first.id, second.id]


def _exported(root: Path, run_id: str, fmt: str) -> pa.Table:
    view = gittrack.Api(".").run(run_id)
    path = root / run_id / f"history.{fmt}"
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "csv":
        return read_csv(path, view.history_arrow().schema)
    rows = read_jsonl(path)
    assert rows == json_safe(view.history_arrow().to_pylist())
    return view.history_arrow()  # jsonl rows are compared as JSON above


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_round_trips_history_exactly(
    cli: Cli, runs: list[str], repo: Path, fmt: str
) -> None:
    result = cli("export", runs[0], "--format", fmt, "-o", "out")
    assert result.exit_code == 0, result.stderr
    view = gittrack.Api(".").run(runs[0])
    table = _exported(repo / "out", runs[0], fmt)
    assert_tables_equal(table, view.history_arrow())
    assert "val/ñ_λ 精度" in table.column_names
    assert table.num_rows == 50  # unsampled
    pd.testing.assert_frame_equal(table.to_pandas(), view.history())


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_histograms_and_json_files(
    cli: Cli, runs: list[str], repo: Path, fmt: str
) -> None:
    assert cli("export", "first", "--format", fmt, "-o", "out").exit_code == 0
    view = gittrack.Api(".").run(runs[0])
    folder = repo / "out" / runs[0]
    expected = view.histograms(format="arrow")
    path = folder / f"histograms.{fmt}"
    if fmt == "jsonl":
        assert read_jsonl(path) == expected.to_pylist()
    else:
        back = pq.read_table(path) if fmt == "parquet" else read_csv(path, expected.schema)
        assert_tables_equal(back, expected)
    assert json.loads((folder / "config.json").read_text("utf-8")) == {"lr": 0.1}
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    assert canon(summary) == canon(json_safe(view.summary))
    metadata = json.loads((folder / "metadata.json").read_text("utf-8"))
    assert metadata["id"] == runs[0] and metadata["state"] == "finished"


def test_several_runs_default_folder_and_output(cli: Cli, runs: list[str], repo: Path) -> None:
    result = cli("export", *runs)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for rid, name in zip(runs, ["first", "second"], strict=True):
        folder = repo / "gittrack-export" / rid
        assert f"exported {rid} ({name})" in out
        assert f"gittrack-export/{rid}/history.csv" in out
        assert (folder / "history.csv").is_file() and (folder / "metadata.json").is_file()
    assert "50 rows, 1 histogram row\n" in out
    assert not (repo / "gittrack-export" / runs[1] / "histograms.csv").exists()


def test_json_output(cli: Cli, runs: list[str], repo: Path) -> None:
    result = cli("export", runs[1], "--format", "parquet", "-o", "o", "--json")
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == [runs[1]]
    assert data[0]["rows"] == 1 and data[0]["histogram_rows"] == 0
    assert Path(data[0]["files"][0]).name == "history.parquet"


def test_unknown_run_fails_before_anything_is_written(
    cli: Cli, runs: list[str], repo: Path
) -> None:
    result = cli("export", runs[0], "nope", "-o", "out")
    assert result.exit_code == 4
    assert "no run matches 'nope'" in result.stderr
    assert not (repo / "out").exists()


def test_needs_a_run_and_a_known_format(cli: Cli, runs: list[str]) -> None:
    assert cli("export").exit_code == 2
    assert cli("export", runs[0], "--format", "xlsx").exit_code == 2


def test_help_documents_the_default_folder(cli: Cli) -> None:
    result = cli("export", "--help")
    assert "gittrack-export" in result.stdout and "csv|parquet|jsonl" in result.stdout


def test_an_export_the_disk_refuses_is_exit_74_naming_the_file(
        repo: Path, cli: Callable[..., object], small_disk: Path) -> None:
    """A full disk printed 'cannot write FILE: ...' but exited 1; cli.md says 74."""
    from tests.helpers.disks import fill

    with gittrack.init(project="p", id="full", settings={"quiet": True}) as run:
        for step in range(50):
            run.log({"loss": 1.0 / (step + 1)})
    fill(small_disk)
    result = cli("export", "full", "-o", str(small_disk / "out"))
    assert result.exit_code == 74 == gittrack.OutputError.exit_code  # type: ignore[attr-defined]
    assert "No space left on device" in result.stderr  # type: ignore[attr-defined]
    assert str(small_disk) in result.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_media_files_and_their_index(cli: Cli, media_run: str, repo: Path,
                                                  fmt: str) -> None:
    result = cli("export", media_run, "--format", fmt, "-o", "out", "--json")
    assert result.exit_code == 0, result.stderr
    (report,) = json.loads(result.stdout)
    assert report["media_files"] == 4
    folder = repo / "out" / media_run
    assert (folder / "media" / "examples" / "5_3_1.png").read_bytes() == b"c" * 30
    assert (folder / "media" / "notes" / "3_2_0.txt").read_bytes() == b"hello"
    index = pq.read_table(folder / "media.parquet") if fmt == "parquet" \
        else pa.csv.read_csv(folder / "media.csv")
    assert index.column("path").to_pylist() == [
        "media/examples/0_1_0.png", "media/notes/3_2_0.txt", "media/examples/5_3_0.png",
        "media/examples/5_3_1.png"]
    assert index.column("key").to_pylist() == ["examples", "notes", "examples", "examples"]
    assert index.column("step").to_pylist() == [0, 3, 5, 5]
    assert index.column("size").to_pylist() == [10, 5, 20, 30]
    assert json.loads(index.column("meta").to_pylist()[3]) == {"_items": 2}
    for path in index.column("path").to_pylist():  # every path names a file written
        assert (folder / path).is_file()

    plain = cli("export", media_run, "-o", "plain", "--no-media")
    assert plain.exit_code == 0, plain.stderr
    assert not (repo / "plain" / media_run / "media").exists()
    assert not (repo / "plain" / media_run / "media.csv").exists()


@pytest.mark.parametrize("path", ["media/../../../escaped.png", "media/x/../../escaped.png",
                                  "../escaped.png", "/tmp/escaped.png"])
def test_a_forged_media_index_cannot_make_export_write_outside(
        cli: Cli, repo: Path, tmp_path: Path, path: str) -> None:
    entry = RunStorage(pygit2.Repository(str(repo))).keep_bytes(b"evil", "media/x/0_1_0.png")
    forged = ManifestEntry(path, entry.digest, entry.size, entry.blob)
    forge_media_run(repo, "hostile", [(forged, {"key": "x", "step": 0, "type": "image",
                                                "item": 0, "format": "png"})])
    result = cli("export", "hostile", "-o", "out")
    assert result.exit_code == 6, result.stdout + result.stderr
    assert path[:10] in result.stderr and "\n" not in result.stderr.strip()
    assert [p for p in tmp_path.rglob("escaped*")] == []
    assert not (repo / "out" / "hostile").exists()  # nothing of the run written
