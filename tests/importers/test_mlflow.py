"""Reading MLflow file and SQLite stores made by mlflow itself, value by value."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from gittrack.api.public import Api
from gittrack.errors import NotFoundError, UsageError
from gittrack.formats.media.image import Image
from gittrack.git.repo import discover
from gittrack.importers import mlflow as reader
from gittrack.importers.batch import import_all
from gittrack.importers.common import SourceRun

pytestmark = pytest.mark.slow  # mlflow imports and migrates a SQLite store in seconds


def _runs(uri: str, experiment: str | None = None) -> dict[str | None, SourceRun]:
    store = reader.Store(uri)
    return {run.name: run for run in (store.read(item) for _, item in store.runs(experiment))}


@pytest.fixture(params=["file", "sqlite"])
def store_uri(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"mlflow_{request.param}_store"))


def test_params_metrics_and_tags_read_back_as_mlflow_stored_them(store_uri: str) -> None:
    runs = _runs(store_uri)
    assert set(runs) == {"alpha", "beta", "beta-child", "gamma"}
    alpha = runs["alpha"]
    assert alpha.kind == "mlflow" and len(alpha.key) == 32
    assert alpha.location == f"{reader.tracking_uri(store_uri)}#{alpha.key}"
    assert alpha.project == "exp-a" and alpha.notes == "first run"
    assert alpha.tags == ("team=vision",)
    assert alpha.config == {"lr": "0.01", "layers": "3", "optimizer": "adam"}  # MLflow's strings
    assert [r.step for r in alpha.rows] == [0, 1, 2, 3]
    for row in alpha.rows:
        assert row.values["loss"] == 1.0 / (row.step + 1) and row.values["acc"] == row.step / 10
        assert row.timestamp is not None and 1e9 < row.timestamp < 1e11  # seconds, not ms
    assert alpha.rows[2].values["val_loss"] == 0.5 and "val_loss" not in alpha.rows[1].values
    image = alpha.rows[1].values["sample"]  # mlflow.log_image(key=, step=): media at its step
    assert isinstance(image, Image) and (image.width, image.height) == (6, 4)
    assert all(set(r.values) <= {"loss", "acc", "val_loss", "sample"} for r in alpha.rows)
    assert alpha.summary == {"loss": 0.25, "acc": 0.3, "val_loss": 0.5}
    assert alpha.exit_code == 0
    assert alpha.start_time is not None and alpha.end_time is not None
    assert alpha.start_time <= alpha.end_time


def test_latest_metric_is_the_summary_and_status_the_state(store_uri: str) -> None:
    runs = _runs(store_uri)
    beta = runs["beta"]
    assert beta.project == "exp-b" and beta.config == {"seed": "7"}
    assert [(r.step, r.values["loss"]) for r in beta.rows] == [(0, 3.0), (10, 2.0)]
    assert beta.summary == {"loss": 2.0}
    assert runs["gamma"].exit_code == 1  # FAILED
    assert runs["beta-child"].group == beta.key and beta.group is None  # nested: the parent


def test_an_experiment_can_be_chosen(mlflow_sqlite_store: str) -> None:
    assert set(_runs(mlflow_sqlite_store, "exp-a")) == {"alpha"}
    with pytest.raises(NotFoundError, match="no-such"):
        _runs(mlflow_sqlite_store, "no-such")


def test_a_store_that_is_not_there_is_named(tmp_path: Path) -> None:
    for uri in (str(tmp_path / "mlruns"), f"sqlite:///{tmp_path / 'none.db'}",
                (tmp_path / "gone").as_uri()):
        with pytest.raises(NotFoundError, match=r"none\.db|mlruns|gone"):
            reader.Store(uri)
    assert not (tmp_path / "none.db").exists()  # not created by looking


def test_a_folder_or_a_sqlite_file_path_is_a_store(mlflow_file_store: str,
                                                     mlflow_sqlite_store: str) -> None:
    folder = mlflow_file_store.removeprefix("file://")
    assert reader.tracking_uri(folder) == mlflow_file_store
    database = mlflow_sqlite_store.removeprefix("sqlite:///")
    assert reader.tracking_uri(database) == mlflow_sqlite_store


def test_an_imported_run_has_mlflow_params_metrics_and_tags(store_uri: str, repo: Path) -> None:
    report = import_all(discover(repo), reader.sources(store_uri))
    assert len(report.imported) == 4 and not report.skipped
    views = {view.name: view for view in Api(repo).runs()}
    alpha, source = views["alpha"], _runs(store_uri)["alpha"]
    assert alpha.project == "exp-a" and alpha.config == source.config
    assert alpha.summary == source.summary and list(alpha.tags) == ["team=vision"]
    assert alpha.notes == "first run" and alpha.state == "finished"
    history = alpha.history()
    assert history["_step"].tolist() == [0, 1, 2, 3]
    assert history["loss"].tolist() == [1.0, 0.5, 1 / 3, 0.25]
    assert history["acc"].tolist() == [0.0, 0.1, 0.2, 0.3]
    assert history["_timestamp"].tolist() == pytest.approx([r.timestamp for r in source.rows])
    assert views["gamma"].state == "failed"
    [(step, image)] = list(alpha.media("sample"))
    assert step == 1 and image.numpy()[0, 0].tolist() == [50, 50, 50]
    again = import_all(discover(repo), reader.sources(store_uri))
    assert len(again.present) == 4 and not again.imported
    assert len(Api(repo).runs()) == 4


def test_without_mlflow_installed_the_error_says_which_extra(
        monkeypatch: pytest.MonkeyPatch, mlflow_file_store: str) -> None:
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # import fails as if absent
    with pytest.raises(UsageError, match=re.escape("pip install 'gittrack[mlflow]'")):
        reader.Store(mlflow_file_store)
