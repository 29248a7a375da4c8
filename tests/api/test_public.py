"""``gittrack.Api`` and the stored format as plain git and pyarrow see it."""

from __future__ import annotations

import io
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import gittrack
from gittrack.errors import AmbiguousNameError, InvalidSettingError, NotFoundError
from tests.helpers.repos import git
from tests.helpers.runs import make_run


@pytest.fixture
def three_runs(repo: Path) -> list[gittrack.Run]:
    a = make_run(name="alpha", config={"lr": 0.1, "opt": "sgd"}, tags=["baseline"],
                 rows=[{"acc": 0.5}, {"acc": 0.7}])
    b = make_run(name="beta", config={"lr": 0.01, "opt": "adam"}, group="g1",
                 rows=[{"acc": 0.9}])
    c = make_run(rows=[{"acc": 0.95}], name="gamma", config={"lr": 0.001}, exit_code=1)
    return [a, b, c]


def test_runs_newest_first_with_filters(three_runs: list[gittrack.Run]) -> None:
    api = gittrack.Api(".")
    assert [v.name for v in api.runs()] == ["gamma", "beta", "alpha"]
    assert [v.name for v in api.runs({"state": "finished"})] == ["beta", "alpha"]
    assert [v.name for v in api.runs({"state": "failed"})] == ["gamma"]
    assert [v.name for v in api.runs({"config.lr": {"$lt": 0.05}})] == ["gamma", "beta"]
    assert [v.name for v in api.runs({"tags": "baseline"})] == ["alpha"]
    assert [v.name for v in api.runs({"summary.acc": {"$gte": 0.9}})] == ["gamma", "beta"]
    assert [v.name for v in api.runs({"group": "g1"})] == ["beta"]
    assert api.runs({"config.opt": "rmsprop"}) == []


def test_runs_is_a_lazy_sequence_of_views(three_runs: list[gittrack.Run]) -> None:
    runs = gittrack.Api(".").runs({"config.lr": {"$lt": 0.05}})
    assert isinstance(runs, Sequence) and not isinstance(runs, list)
    assert len(runs) == 2 and runs
    assert runs[0].name == "gamma" and runs[-1].name == "beta"
    assert runs[0] is runs[0]  # each view is made once
    assert runs[-1] is runs[1] and runs[np.int64(1)] is runs[1]
    assert [v.name for v in runs[::-1]] == ["beta", "gamma"] and runs[5:] == []
    assert list(runs) == [runs[0], runs[1]] and runs == (runs[0], runs[1]) != [runs[0]]
    assert "beta" in [v.name for v in reversed(runs)] and runs.index(runs[1]) == 1
    with pytest.raises(IndexError, match="out of range"):
        runs[2]
    with pytest.raises(TypeError, match="integers or slices"):
        runs["a"]  # type: ignore[call-overload]
    assert not gittrack.Api(".").runs({"config.lr": 5})


def test_run_by_id_prefix_name_and_ref(three_runs: list[gittrack.Run]) -> None:
    api = gittrack.Api(".")
    alpha = three_runs[0]
    assert api.run(alpha.id).id == alpha.id
    assert api.run(alpha.ref).id == alpha.id
    assert api.run("alpha").id == alpha.id
    unique = next(n for n in range(1, 27)
                  if sum(r.id.startswith(alpha.id[:n]) for r in three_runs) == 1)
    assert api.run(alpha.id[:unique]).id == alpha.id
    assert api.run(alpha.id[:unique].upper()).id == alpha.id


def test_unknown_and_ambiguous_names(three_runs: list[gittrack.Run]) -> None:
    api = gittrack.Api(".")
    with pytest.raises(NotFoundError, match="'delta'"):
        api.run("delta")
    common = three_runs[0].id[:2]  # ids made a moment apart share their time prefix
    with pytest.raises(AmbiguousNameError, match="prefix of 3 runs"):
        api.run(common)
    make_run(name="alpha")
    with pytest.raises(AmbiguousNameError, match="2 runs are named 'alpha'"):
        api.run("alpha")


def test_view_attributes(three_runs: list[gittrack.Run]) -> None:
    view = gittrack.Api(".").run("beta")
    assert (view.name, view.state, view.project, view.group, view.job_type, view.notes) == (
        "beta", "finished", "project", "g1", None, None)
    assert view.tags == []
    assert view.config == {"lr": 0.01, "opt": "adam"}
    assert view.summary == {"acc": 0.9}
    assert view.ref == f"refs/gittrack/runs/{view.id}"
    assert view.duration is not None and view.duration >= 0
    assert view.created_at.endswith("Z")
    assert view.id in repr(view)
    # the dicts handed out are copies
    view.config["lr"] = 5
    assert view.config["lr"] == 0.01


def test_history_formats_and_key_selection(repo: Path) -> None:
    run = make_run(rows=[{"loss": 1.0, "acc": 0.1}, {"loss": 0.5}, {"other": 3},
                         {"loss": math.nan, "acc": 0.3}])
    view = gittrack.Api(".").run(run.id)
    df = view.history()
    assert list(df.columns) == ["_step", "_timestamp", "_runtime", "loss", "acc", "other"]
    assert len(df) == 4
    arrow = view.history(format="arrow")
    assert isinstance(arrow, pa.Table)
    assert repr(view.history_arrow().to_pylist()) == repr(arrow.to_pylist())  # NaN-aware
    assert arrow.column("acc").to_pylist() == [0.1, None, None, 0.3]
    selected = view.history(keys=["acc"], format="arrow")
    assert selected.column_names == ["_step", "_timestamp", "_runtime", "acc"]
    assert selected.column("_step").to_pylist() == [0, 3]  # only rows that have the key
    assert view.history(keys="acc", format="arrow").equals(selected)
    missing = view.history(keys=["nope"], format="arrow")
    assert missing.num_rows == 0 and "nope" in missing.column_names
    rows = list(view.scan_history(keys=["loss"]))
    assert [r["_step"] for r in rows] == [0, 1, 3]
    assert math.isnan(rows[2]["loss"])  # NaN is a value, not a missing one
    assert "acc" not in rows[1]
    with pytest.raises(InvalidSettingError, match="format"):
        view.history(format="excel")


def test_history_as_polars(repo: Path) -> None:
    pl = pytest.importorskip("polars")
    run = make_run(rows=[{"a": 1}, {"a": 2}])
    frame = gittrack.Api(".").run(run.id).history(format="polars")
    assert isinstance(frame, pl.DataFrame)
    assert frame["a"].to_list() == [1, 2]


def test_empty_history(repo: Path) -> None:
    run = make_run()
    view = gittrack.Api(".").run(run.id)
    assert view.history(format="arrow").num_rows == 0
    assert view.history().columns.tolist() == ["_step", "_timestamp", "_runtime"]
    assert view.histograms(format="arrow").num_rows == 0


def test_histograms_read_back(repo: Path) -> None:
    run = make_run(rows=[{"w": gittrack.Histogram(np.arange(8.0), num_bins=4)},
                         {"w": gittrack.Histogram(([1, 2], [0.0, 0.5, 1.0])),
                          "b": gittrack.Histogram([1.0], num_bins=1)}])
    view = gittrack.Api(".").run(run.id)
    w = view.histograms("w", format="arrow").to_pylist()
    assert [(r["_step"], r["counts"], r["edges"]) for r in w] == [
        (0, [2.0, 2.0, 2.0, 2.0], [0.0, 1.75, 3.5, 5.25, 7.0]),
        (1, [1.0, 2.0], [0.0, 0.5, 1.0]),
    ]
    assert len(view.histograms(format="arrow")) == 3
    assert list(view.histograms()["key"]) == ["w", "w", "b"]


def test_api_from_a_subfolder_and_path(repo: Path) -> None:
    run = make_run()
    (repo / "sub").mkdir()
    api = gittrack.Api(repo / "sub")
    assert [v.id for v in api.runs()] == [run.id]
    assert Path(api.path).resolve() == repo.resolve()


# -- the format, read with plain git and pyarrow alone --------------------------------------------
def test_readable_with_plain_git_and_pyarrow(repo: Path) -> None:
    run = make_run(name="plain", config={"lr": 0.5, "layers": [1, 2]},
                   rows=[{"loss": 1.5, "acc": 1, "tag": "é"}, {"loss": math.inf},
                         {"nested": {"x": -1.0}}])
    ref = f"refs/gittrack/runs/{run.id}"
    head = git(repo, "rev-parse", "HEAD").strip()  # the run keeps its code commit too
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/gittrack/").split() == [
        f"refs/gittrack/code/{head}", ref]
    info = yaml.safe_load(git(repo, "show", f"{ref}:run.yaml"))
    assert info["format"] == 2
    assert (info["id"], info["name"], info["state"]) == (run.id, "plain", "finished")
    assert yaml.safe_load(git(repo, "show", f"{ref}:config.yaml")) == {"lr": 0.5,
                                                                        "layers": [1, 2]}
    summary = yaml.safe_load(git(repo, "show", f"{ref}:summary.yaml"))
    assert summary == {"loss": math.inf, "acc": 1, "tag": "é", "nested/x": -1.0}
    files = git(repo, "ls-tree", "-r", "--name-only", ref).split()
    assert {"run.yaml", "config.yaml", "summary.yaml", "history/0/000000.parquet"} <= set(files)
    blob = subprocess.run(["git", "cat-file", "blob", f"{ref}:history/0/000000.parquet"],
                          cwd=repo, check=True, capture_output=True).stdout
    table = pq.read_table(io.BytesIO(blob))
    assert table.column("_step").to_pylist() == [0, 1, 2]
    assert table.column("loss").to_pylist() == [1.5, math.inf, None]
    assert table.column("acc").to_pylist() == [1, None, None]
    assert table.column("tag").to_pylist() == ["é", None, None]
    assert table.column("nested/x").to_pylist() == [None, None, -1.0]
    assert table.schema.field("_timestamp").type == pa.float64()
    runtimes = table.column("_runtime").to_pylist()
    assert runtimes == sorted(runtimes) and runtimes[0] >= 0
    # a run's checkpoints are an ordinary commit chain
    assert int(git(repo, "rev-list", "--count", ref)) >= 2
    assert "gittrack: run" in git(repo, "log", "-1", "--format=%s", ref)
