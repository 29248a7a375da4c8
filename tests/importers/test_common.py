"""``gittrack.importers.common``: a finished run from a source's rows, config and summary."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

import gittrack
from gittrack.errors import InvalidValueError
from gittrack.formats.histogram import Histogram
from gittrack.importers.common import Row, SourceRun, import_run, imported_run_id
from gittrack.runs.metadata import parse_iso

T0 = 1_700_000_000.0


def source(**fields: object) -> SourceRun:
    rows = [Row({"loss": 1.0, "acc": 0.1}, step=0, timestamp=T0 + 1),
            Row({"loss": 0.5}, step=2, timestamp=T0 + 2),
            Row({"loss": 0.7}, step=1, timestamp=T0 + 3),  # out of order: kept
            Row({"h": Histogram.from_bins([1, 2], [0, 1, 2])}, step=3, timestamp=T0 + 4)]
    base: dict[str, object] = dict(
        kind="test", key="source-1", rows=rows, config={"lr": 0.1, "layers": [1, 2]},
        summary={"best": 0.5}, name="imported", project="p", tags=("a",), notes="n",
        start_time=T0, end_time=T0 + 10)
    base.update(fields)
    return SourceRun(**base)  # type: ignore[arg-type]


def test_the_run_has_the_source_values_and_times(repo: Path) -> None:
    done = import_run(pygit2.Repository(str(repo)), source())
    assert done.created and done.run_id == imported_run_id(source())
    view = gittrack.Api(".").run(done.run_id)
    frame = view.history()
    assert list(frame["_step"]) == [0, 2, 1]
    assert list(frame["loss"]) == [1.0, 0.5, 0.7]
    assert list(frame["_timestamp"]) == [T0 + 1, T0 + 2, T0 + 3]
    assert list(frame["_runtime"]) == [1.0, 2.0, 3.0]
    assert view.config == {"lr": 0.1, "layers": [1, 2]}
    assert view.summary["best"] == 0.5 and view.summary["loss"] == 0.7
    assert list(view.histograms("h")["_step"]) == [3]
    assert (view.name, view.info.project, view.tags, view.state) == (
        "imported", "p", ["a"], "finished")
    assert parse_iso(view.created_at) == T0
    assert view.duration == 10.0
    assert view.metadata["imported_from"] == {"kind": "test", "source": "source-1"}
    assert "console" not in view.metadata.get("code", {})


def test_importing_again_writes_nothing(repo: Path) -> None:
    git = pygit2.Repository(str(repo))
    first = import_run(git, source())
    head = git.references[f"refs/gittrack/runs/{first.run_id}"].target
    again = import_run(git, source(rows=[Row({"other": 1.0})]))
    assert (again.run_id, again.name, again.created) == (first.run_id, "imported", False)
    assert git.references[f"refs/gittrack/runs/{first.run_id}"].target == head


def test_a_row_that_cannot_be_logged_leaves_a_failed_run_named(repo: Path) -> None:
    bad = source(rows=[Row({"loss": 1.0}, step=0), Row({"loss": object()}, step=1)])
    with pytest.raises(InvalidValueError, match="gittrack rm"):
        import_run(pygit2.Repository(str(repo)), bad)
    (run,) = gittrack.Api(".").runs()
    assert run.state == "failed" and list(run.history()["loss"]) == [1.0]
