"""Source runs made once per session by the real trackers (slow to start: wandb, mlflow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import sources


@pytest.fixture(scope="session")
def wandb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``wandb/`` folder with two offline runs (``sources.WANDB_SCRIPT``)."""
    return sources.wandb_runs(tmp_path_factory.mktemp("wandb-source"))


@pytest.fixture(scope="session")
def mlflow_file_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("mlflow-file")
    return sources.mlflow_store(where, (where / "mlruns").as_uri())


@pytest.fixture(scope="session")
def mlflow_sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("mlflow-sqlite")
    return sources.mlflow_store(where, f"sqlite:///{where / 'mlflow.db'}")
