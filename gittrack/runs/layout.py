"""Where a run lives: its ref, the files in its commit tree, its local state under .git/gittrack."""

from __future__ import annotations

from gittrack.git import namespace
from gittrack.types import RefName, RunId

FORMAT = 1

RUN_YAML = "run.yaml"
CONFIG_YAML = "config.yaml"
SUMMARY_YAML = "summary.yaml"
RESUME_YAML = "resume.yaml"
HISTORY_DIR = "history"
HISTOGRAMS_DIR = "histograms"


def run_ref(run_id: RunId) -> RefName:
    return RefName(namespace.RUNS + run_id)


def chunk_name(directory: str, number: int) -> str:
    """``history/000003.parquet``: six digits sort correctly up to a million checkpoints."""
    return f"{directory}/{number:06d}.parquet"


def chunk_number(filename: str) -> int | None:
    stem, _, ext = filename.partition(".")
    return int(stem) if ext == "parquet" and stem.isdigit() else None


