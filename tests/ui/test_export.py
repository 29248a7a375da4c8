"""`gittrack ui --export`: the static site and the data embedded in it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gittrack.errors import NotFoundError, UsageError
from gittrack.ui.export import export, export_site
from tests.helpers.runs import make_run
from tests.helpers.ui import log_everything


def embedded(path: Path) -> Any:
    """The value a ``data/*.js`` file sets."""
    text = path.read_text()
    head, sep, body = text.partition("] = ")
    assert sep and head.startswith("(window.GITTRACK_DATA"), text[:80]
    body = body.rstrip(";\n")
    assert body.startswith("JSON.parse(") and body.endswith(")"), body[:80]
    return json.loads(json.loads(body[len("JSON.parse("):-1]))


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


def site_files(site: Path) -> list[Path]:
    """Every file of the export, each checked to lie inside ``site``."""
    files = [p for p in site.rglob("*") if p.is_file() or p.is_symlink()]
    for path in files:
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(site.resolve()), path
    return files


def test_export_holds_media_panels_console_and_code(repo: Path, tmp_path: Path) -> None:
    run = log_everything(repo)
    site = tmp_path / "site"
    exported = export(str(repo), site)
    assert exported.runs == [run.id] and exported.notes() == []  # a public project
    data = site / "data"
    media = embedded(data / f"media-{run.id}.js")["media"]
    samples = [r for r in media if r["key"] == "samples"]
    assert [r["file"] for r in samples] == [f"media/{run.id}/{n}.png" for n in (0, 3, 6)]
    for row in samples:
        assert (site / row["file"]).read_bytes().startswith(b"\x89PNG")
    text = next(r for r in media if r["key"] == "note")
    assert text["text"] == "plain words" and "file" not in text
    html = next(r for r in media if r["key"] == "report")
    assert "an html report" in html["text"] and "file" not in html  # shown by srcdoc only
    # no page of logged HTML: the site's own pages alone
    assert {p.relative_to(site).as_posix() for p in site.rglob("*.htm*")} == {
        "index.html", "static/index.html"}
    panels = embedded(data / f"panels-{run.id}.js")
    (chart,) = panels["charts"]
    assert chart["spec"]["data"]["values"] == [{"x": 0, "y": 1.0}, {"x": 1, "y": 3.0},
                                               {"x": 2, "y": 2.0}]
    (rows,) = panels["tables"]
    assert (rows["step"], rows["steps"], rows["rows"]) == (2, [0, 1, 2], [[2, 4.0]])
    earlier = {e["step"]: e["rows"] for e in panels["more"] if e["key"] == "rows"}
    assert earlier == {0: [[0, 0.0]], 1: [[1, 2.0]]}  # for the step slider
    assert "hello from the exported run" in embedded(data / f"console-{run.id}.js")["text"]
    code = embedded(data / f"code-{run.id}.js")
    assert code["saved"] is True and "print('changed')" in code["patch"]
    names = {p.relative_to(site).as_posix() for p in site_files(site)}
    assert not any("escape" in name or ".." in name for name in names), names
    files = {r["file"] for r in media if "file" in r}
    assert {n for n in names if n.startswith("media/")} == files
    assert len(files) == 7 and f"media/{run.id}/{len(media) - 1}.wav" in files  # 6 PNGs, a WAV
    page = (site / "index.html").read_text()
    assert "media-src 'self'" in page and "img-src 'self'" in page  # the meta CSP


def test_export_of_a_private_project(repo: Path, private_repo: object, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    run = log_everything(repo)
    exported = export(str(repo), tmp_path / "with-key")
    assert exported.decrypted and len(exported.notes()) == 1
    assert "decrypted content of this private project" in exported.notes()[0]
    media = embedded(tmp_path / "with-key" / "data" / f"media-{run.id}.js")["media"]
    assert all("file" in r or "text" in r for r in media if r["shown"])

    public_only = export(str(repo), tmp_path / "public", public_only=True)
    assert not public_only.decrypted and not (tmp_path / "public" / "media").exists()
    assert public_only.notes() == ["left out the media, charts, tables, console output and "
                                   "saved code of this private project (--public-only)"]
    for kind in ("media", "panels", "console", "code"):
        assert "--public-only" in embedded(
            tmp_path / "public" / "data" / f"{kind}-{run.id}.js")["left_out"]
    assert embedded(tmp_path / "public" / "data" / f"run-{run.id}.js")["name"] == "everything"
    code = embedded(tmp_path / "public" / "data" / f"code-{run.id}.js")  # git data stays
    assert code["commit"] == run.info.code["commit"] and code["branch"] == "main", code
    assert "patch" not in code and "files" not in code

    # another user of this clone: no identity in their home, no plaintext copy here
    shutil.rmtree(repo / ".git" / "gittrack" / "cache" / "blobs")
    stranger = tmp_path / "stranger"
    monkeypatch.setenv("HOME", str(stranger))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(stranger / var.lower()))
    site = tmp_path / "no-key"
    without = export(str(repo), site)
    assert not without.decrypted
    (note,) = without.notes()
    assert note.startswith("left out ") and "media of 1 run(s)" in note, note
    assert "\n" not in note
    assert not (site / "media").exists()
    rows = embedded(site / "data" / f"media-{run.id}.js")["media"]
    assert all("left_out" in r and "file" not in r for r in rows if r["shown"])
    assert embedded(site / "data" / f"history-{run.id}-_step.js")["run"] == run.id


def test_export_holds_no_local_path(repo: Path, tmp_path: Path) -> None:
    from tests.helpers.processes import killed_run

    home = Path.home()
    run = make_run([{"loss": 1.0}], config={"data": f"{repo}/data.csv", "cache": f"{home}/c"})
    log_everything(repo)
    dead = killed_run(repo, steps=3)  # its warning names its write-ahead log's folder
    site = tmp_path / "site"
    export(str(repo), site)
    listing = embedded(site / "data" / "runs.js")
    # the git folder is named as such (not as if it were the repository)
    assert any(dead in note and "<repo>/.git/gittrack/wal" in note
               for note in listing["warnings"]), listing
    config = next(r for r in listing["runs"] if r["id"] == run.id)["config"]
    assert config == {"data": "<repo>/data.csv", "cache": "~/c"}
    # a copy elsewhere: its runs recorded the first folder as their working folder
    moved = tmp_path / "moved"
    shutil.copytree(repo, moved, symlinks=True)
    export(str(moved), tmp_path / "site-moved")
    for folder in (site, tmp_path / "site-moved"):
        for path in site_files(folder):
            text = path.read_bytes()
            for local in {str(repo), str(repo.resolve()), str(home), str(home.resolve()),
                          str(moved)}:
                assert local.encode() not in text, (path, local)
    metadata = embedded(tmp_path / "site-moved" / "data" / f"run-{run.id}.js")["metadata"]
    assert metadata["cwd"] == "<repo>"


def test_export_keeps_keys_named_like_javascript_builtins(repo: Path, tmp_path: Path) -> None:
    # data files are JSON.parse of a string: in an object literal "__proto__": would set the
    # object's prototype and the key would vanish from the page
    run = make_run([{"loss": 1.0}], config={"__proto__": 5, "constructor": 1})
    site = tmp_path / "site"
    export(str(repo), site)
    text = (site / "data" / "runs.js").read_text()
    assert "] = JSON.parse(" in text
    config = next(r for r in embedded(site / "data" / "runs.js")["runs"]
                  if r["id"] == run.id)["config"]
    assert config == {"__proto__": 5, "constructor": 1}
