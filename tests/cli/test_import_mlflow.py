"""`gittrack import mlflow URI` end to end, over a file store mlflow made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gittrack.api.public import Api
from tests.helpers.cli import Cli
from tests.helpers.sources import mlflow_store


@pytest.mark.slow
def test_import_an_mlflow_file_store_once(cli: Cli, repo: Path, tmp_path: Path) -> None:
    where = tmp_path / "source"
    mlflow_store(where, (where / "mlruns").as_uri())
    result = cli("import", "mlflow", str(where / "mlruns"), "--experiment", "exp-a", "--json")
    assert result.exit_code == 0, result.stderr
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["name"] == "alpha" and line["created"] is True
    assert line["source"].startswith((where / "mlruns").as_uri() + "#")
    [view] = Api(repo).runs()
    assert view.config == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    assert view.summary == {"loss": 0.25, "acc": 0.3, "val_loss": 0.5}
    again = cli("import", "mlflow", f"file:{where / 'mlruns'}")
    assert again.exit_code == 0
    assert "3 runs imported, 1 already present" in again.stdout
    assert len(Api(repo).runs()) == 4


def test_a_uri_that_is_not_a_store_is_one_line_naming_it(
        cli: Cli, repo: Path, tmp_path: Path) -> None:
    for uri in (str(tmp_path / "mlruns"), f"sqlite:///{tmp_path / 'none.db'}"):
        result = cli("import", "mlflow", uri)
        assert result.exit_code == 4
        assert result.stderr.count("\n") == 1 and uri in result.stderr
