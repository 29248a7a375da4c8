"""The other trackers, measured with the same loop when installed (the ``bench`` extra).

Each adapter runs in its own subprocess, offline, writing under a temp folder only:

- wandb: ``WANDB_MODE=offline``, ``WANDB_SILENT=true``, ``wandb.init(dir=TMP)``,
  ``run.log(d, step=i)``.
- MLflow with its local file store (``file:TMP/mlruns``; MLflow 3 keeps it behind
  ``MLFLOW_ALLOW_FILE_STORE=true``): ``mlflow.log_metrics(d, step=s)``.
- MLflow with a local SQLite store (``sqlite:///TMP/mlflow.db``), the local store MLflow 3
  recommends instead.
- DVCLive: ``Live(dir=TMP, save_dvc_exp=False)``, ``log_metric`` per key, then ``next_step()``.

Telemetry is switched off for all of them (there is no network here anyway).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import dir_bytes

_NO_TELEMETRY = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "true",
    "ITERATIVE_DO_NOT_TRACK": "1",
    "WANDB_DISABLE_CODE": "true",
}


@dataclass(frozen=True)
class Competitor:
    key: str
    label: str
    module: str           # import name, to check it is installed
    dist: str             # distribution name, for the version
    full_steps: int       # steps measured in the full run
    quick_steps: int      # steps measured with --quick
    env: dict[str, str] = field(default_factory=dict)

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def version(self) -> str:
        try:
            return importlib.metadata.version(self.dist)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    def environment(self, workdir: Path) -> dict[str, str]:
        env = {**_NO_TELEMETRY, **self.env}
        if self.key == "wandb":
            for name, sub in (("WANDB_DIR", ""), ("WANDB_CONFIG_DIR", "wandb-config"),
                              ("WANDB_CACHE_DIR", "wandb-cache"),
                              ("WANDB_DATA_DIR", "wandb-data")):
                env[name] = str(workdir / sub) if sub else str(workdir)
        return env


COMPETITORS = (
    Competitor("wandb", "wandb offline", "wandb", "wandb", 100_000, 10_000,
               {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}),
    Competitor("mlflow", "MLflow file store", "mlflow", "mlflow", 2_000, 200,
               {"MLFLOW_ALLOW_FILE_STORE": "true"}),
    Competitor("mlflow-sqlite", "MLflow SQLite store", "mlflow", "mlflow", 300, 30),
    Competitor("dvclive", "DVCLive", "dvclive", "dvclive", 1_000, 100),
)


# -- worker side: adapters with start / log_fn / finish / stored_bytes -------------------------

class _Tracker:
    """What the adapters share: each tracker writes under its own folder, whose size is what
    it stored."""

    dir: Path | None = None

    def folder(self, workdir: Path, label: str, *, make: bool = True) -> Path:
        self.dir = workdir / label
        if make:
            self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir

    def stored_bytes(self) -> int:
        assert self.dir is not None
        return dir_bytes(self.dir)


class WandbTracker(_Tracker):
    def __init__(self) -> None:
        import wandb

        self.wandb = wandb
        self.run: Any = None

    def start(self, workdir: Path, label: str) -> None:
        self.folder(workdir, label)
        self.run = self.wandb.init(project="bench", name=label, dir=str(self.dir),
                                   mode="offline", config={"lr": 1e-3, "batch_size": 128})

    def log_fn(self) -> Callable[..., None]:
        log: Callable[..., None] = self.run.log  # log(data, step=i), as gittrack's
        return log

    def finish(self) -> None:
        self.run.finish()


class MlflowTracker(_Tracker):
    def __init__(self, sqlite: bool = False) -> None:
        import mlflow

        self.mlflow = mlflow
        self.sqlite = sqlite

    def start(self, workdir: Path, label: str) -> None:
        folder = self.folder(workdir, label)
        uri = f"sqlite:///{folder / 'mlflow.db'}" if self.sqlite else (folder / "mlruns").as_uri()
        self.mlflow.set_tracking_uri(uri)
        self.mlflow.set_experiment("bench")
        self.mlflow.start_run(run_name=label)
        self.mlflow.log_params({"lr": 1e-3, "batch_size": 128})

    def log_fn(self) -> Callable[[dict[str, float], int], None]:
        log_metrics = self.mlflow.log_metrics
        return lambda data, step: log_metrics(data, step=step)

    def finish(self) -> None:
        self.mlflow.end_run()


class DvcliveTracker(_Tracker):
    def __init__(self) -> None:
        from dvclive import Live

        self.Live = Live
        self.live: Any = None

    def start(self, workdir: Path, label: str) -> None:
        folder = self.folder(workdir, label, make=False)  # DVCLive makes its own
        self.live = self.Live(dir=str(folder), save_dvc_exp=False)
        self.live.log_params({"lr": 1e-3, "batch_size": 128})

    def log_fn(self) -> Callable[[dict[str, float], int], None]:
        live = self.live
        log_metric, next_step = live.log_metric, live.next_step

        def log(data: dict[str, float], step: int) -> None:
            for key, value in data.items():
                log_metric(key, value)
            next_step()

        return log

    def finish(self) -> None:
        self.live.end()


def make_tracker(key: str) -> Any:
    if key == "wandb":
        return WandbTracker()
    if key == "mlflow":
        return MlflowTracker()
    if key == "mlflow-sqlite":
        return MlflowTracker(sqlite=True)
    if key == "dvclive":
        return DvcliveTracker()
    raise KeyError(key)
