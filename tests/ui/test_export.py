"""`gittrack ui --export`: the static site and the data embedded in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gittrack.errors import NotFoundError, UsageError
from gittrack.ui.export import export_site
from tests.helpers.runs import make_run


def embedded(path: Path) -> Any:
    """The value a ``data/*.js`` file sets."""
    text = path.read_text()
    head, sep, body = text.partition("] = ")
    assert sep and head.startswith("(window.GITTRACK_DATA"), text[:80]
    return json.loads(body.rstrip(";\n"))


def test_export_writes_the_pages_and_each_runs_data(repo: Path, tmp_path: Path) -> None:
    first = make_run([{"loss": float(i % 7)} for i in range(5000)], name="long")
    second = make_run([{"acc": 0.5}], name="short")
    site = tmp_path / "site"
    assert export_site(str(repo), site) == [second.id, first.id]
    page = (site / "index.html").read_text()
    assert page.index("data/export.js") < page.index("static/app.js")
    assert (site / "static" / "vendor" / "uPlot.iife.min.js").is_file()
    listing = embedded(site / "data" / "runs.js")
    assert [r["name"] for r in listing["runs"]] == ["short", "long"]
    assert listing["path"] is None  # the local folder stays out of a shared snapshot
    assert embedded(site / "data" / f"run-{first.id}.js")["keys"] == ["loss"]
    history = embedded(site / "data" / f"history-{first.id}-_step.js")
    loss = history["series"]["loss"]
    assert loss["count"] == 5000 and loss["sampled"] and len(loss["x"]) <= 2000
    assert (loss["min"], loss["max"]) == (0.0, 6.0)
    for x in ("_runtime", "_timestamp"):
        assert (site / "data" / f"history-{first.id}-{x}.js").is_file()


def test_export_of_chosen_runs_replaces_an_earlier_export(repo: Path, tmp_path: Path) -> None:
    first = make_run([{"loss": 1.0}], name="one")
    make_run([{"loss": 2.0}], name="two")
    site = tmp_path / "site"
    export_site(str(repo), site)
    assert export_site(str(repo), site, ["one"]) == [first.id]
    assert sorted(p.name for p in (site / "data").iterdir() if p.name.startswith("run-")) == [
        f"run-{first.id}.js"]


def test_export_refuses_a_folder_that_is_not_an_export(repo: Path, tmp_path: Path) -> None:
    make_run([{"loss": 1.0}])
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        export_site(str(repo), folder)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_export_of_an_unknown_run_names_it(repo: Path, tmp_path: Path) -> None:
    make_run([{"loss": 1.0}])
    with pytest.raises(NotFoundError, match="nosuchrun"):
        export_site(str(repo), tmp_path / "site", ["nosuchrun"])


def test_export_holds_the_artifact_pages(repo: Path, tmp_path: Path) -> None:
    (repo / "data.csv").write_text("1,2\n")
    producer = make_run([{"x": 1}], name="maker", artifact=("data", repo / "data.csv"),
                        artifact_type="dataset", aliases=["best"])
    site = tmp_path / "site"
    export_site(str(repo), site)
    assert [a["name"] for a in embedded(site / "data" / "artifacts.js")["artifacts"]] == ["data"]
    assert embedded(site / "data" / "artifact-data.js")["versions"][0]["spec"] == "data:v0"
    for selector in ("v0", "best", "latest"):
        version = embedded(site / "data" / f"version-data-{selector}.js")
        assert version["logged_by"]["id"] == producer.id


def test_export_holds_the_lineage_graphs(repo: Path, tmp_path: Path) -> None:
    (repo / "data.csv").write_text("1,2\n")
    (repo / "w.bin").write_bytes(b"weights")
    maker = make_run([{"x": 1}], name="maker", artifact=("data", repo / "data.csv"),
                     artifact_type="dataset")
    train = make_run([{"x": 1}], name="train", use="data:v0", artifact=("model", repo / "w.bin"))
    plain = make_run([{"x": 1}], name="plain")
    site = tmp_path / "site"
    export_site(str(repo), site)
    graph = embedded(site / "data" / "graph-version-data-v0.js")
    assert {n["id"] for n in graph["nodes"]} == {
        f"run:{maker.id}", "version:data:v0", f"run:{train.id}", "version:model:v0"}
    assert embedded(site / "data" / f"graph-run-{train.id}.js")["root"] == f"run:{train.id}"
    assert (site / "data" / "graph-version-model-v0.js").exists()
    assert not (site / "data" / f"graph-run-{plain.id}.js").exists()  # no artifacts: no graph
