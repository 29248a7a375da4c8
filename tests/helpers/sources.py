"""Runs of other trackers, made by the trackers themselves (W&B offline, MLflow file and
SQLite stores) in a child process, for the importers' tests.

A child process: wandb and mlflow install hooks and threads in the process that logs, and
need their own environment (``WANDB_MODE=offline``, a temporary ``WANDB_DIR``, no network).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

WANDB_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import wandb

    run = wandb.init(project="imports", name="first", config={"lr": 0.01, "layers": [8, 4],
                     "optim": {"name": "adam", "beta": 0.9}}, tags=["base", "cpu"],
                     notes="a small run", mode="offline")
    for step in range(6):
        row = {"loss": 1.0 / (step + 1), "acc": step / 10, "phase": "train"}
        if step == 2:
            pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
            row["sample"] = wandb.Image(pixels, caption="step two")
        if step == 3:
            row["weights"] = wandb.Histogram(np_histogram=([1, 2, 3], [0.0, 1.0, 2.0, 3.0]))
            row["preds"] = wandb.Table(columns=["id", "label"], data=[[1, "cat"], [2, "dog"]])
            row["page"] = wandb.Html("<p>hello</p>")
        wandb.log(row)
    wandb.log({"eval/acc": 0.75}, step=9)
    run.summary["loss"] = 0.001
    run.summary["best"] = {"epoch": 3}
    run.config.update({"batch": 32})
    run.finish()

    other = wandb.init(project="imports", name="second", config={"lr": 0.1}, mode="offline")
    for step in range(3):
        other.log({"loss": 2.0 - step}, step=step * 5)
    other.finish(exit_code=1)
""")

MLFLOW_SCRIPT = textwrap.dedent("""
    import sys
    import mlflow
    import numpy as np

    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("exp-a")
    with mlflow.start_run(run_name="alpha", tags={"team": "vision"},
                          description="first run") as run:
        mlflow.log_params({"lr": 0.01, "layers": 3, "optimizer": "adam"})
        for step in range(4):
            mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 10}, step=step)
        mlflow.log_metric("val_loss", 0.5, step=2)
        mlflow.log_image(np.full((4, 6, 3), 50, dtype=np.uint8), key="sample", step=1)
        mlflow.log_image(np.zeros((2, 2, 3), dtype=np.uint8), artifact_file="plots/other.png")
    mlflow.set_experiment("exp-b")
    with mlflow.start_run(run_name="beta") as run:
        mlflow.log_param("seed", 7)
        mlflow.log_metric("loss", 3.0, step=0)
        mlflow.log_metric("loss", 2.0, step=10)
        with mlflow.start_run(run_name="beta-child", nested=True):
            mlflow.log_metric("loss", 4.0, step=0)
    run = mlflow.start_run(run_name="gamma")
    mlflow.log_metric("loss", 9.0)
    mlflow.end_run(status="FAILED")
""")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "MLFLOW_"))}
    env.update(HOME=str(home), WANDB_MODE="offline", WANDB_SILENT="true",
               WANDB_DIR=str(home), WANDB_CONFIG_DIR=str(home / ".wandb-config"),
               WANDB_CACHE_DIR=str(home / ".wandb-cache"), WANDB_DISABLE_GIT="true",
               MLFLOW_ALLOW_FILE_STORE="true", GIT_PYTHON_REFRESH="quiet")
    return env


def _run(script: str, where: Path, *args: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    (where / "make_runs.py").write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, "make_runs.py", *args], cwd=where, env=_env(where),
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"making source runs failed:\n{done.stdout}\n{done.stderr}")


def wandb_runs(where: Path) -> Path:
    """Two offline W&B runs (``first`` finished, ``second`` exited 1); their ``wandb/``."""
    _run(WANDB_SCRIPT, where)
    return where / "wandb"


def mlflow_store(where: Path, uri: str) -> str:
    """Four MLflow runs in two experiments at ``uri`` (made in ``where``): alpha (exp-a),
    beta and its nested run beta-child, gamma (FAILED) in exp-b."""
    _run(MLFLOW_SCRIPT, where, uri)
    return uri



def synced_wandb_run(wandb_dir: Path, run_id: str, losses: list[float],
                     config: dict[str, object] | None = None) -> Path:
    """A W&B run folder as a synced run leaves its ``files/`` (no record stream): quick to
    make, no wandb needed. ``losses`` are logged at steps 0, 1, ..."""
    import json

    folder = wandb_dir / f"run-20240101_000000-{run_id}"
    files = folder / "files"
    files.mkdir(parents=True)
    lines = [json.dumps({"loss": loss, "_step": step, "_timestamp": 1_700_000_000.0 + step})
             for step, loss in enumerate(losses)]
    (files / "wandb-history.jsonl").write_text("".join(f"{line}\n" for line in lines))
    (files / "wandb-summary.json").write_text(json.dumps({"loss": losses[-1], "_step": 0}))
    document = "".join(f"{key}:\n  value: {json.dumps(value)}\n"
                       for key, value in (config or {}).items())
    (files / "config.yaml").write_text(f"wandb_version: 1\n{document}")
    (files / "wandb-metadata.json").write_text(json.dumps({"project": "synced"}))
    return folder


def damaged_wandb_run(wandb_dir: Path, run_id: str) -> Path:
    """A W&B run folder whose record stream is not one."""
    folder = wandb_dir / f"offline-run-20240101_000001-{run_id}"
    folder.mkdir(parents=True)
    (folder / f"run-{run_id}.wandb").write_bytes(b"this is not a W&B run file")
    return folder
