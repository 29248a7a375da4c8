"""Where a run lives: its ref, the files in its commit tree, its local state under .git/gittrack."""

from __future__ import annotations

from gittrack.git import namespace
from gittrack.types import RefName, RunId

FORMAT = 2
"""The run format this gittrack writes; it reads this one and every earlier one (docs/format.md:
v1 kept every chunk flat in ``history/``, v2 groups them by compaction level)."""

RUN_YAML = "run.yaml"
CONFIG_YAML = "config.yaml"
SUMMARY_YAML = "summary.yaml"
RESUME_YAML = "resume.yaml"
HISTORY_DIR = "history"
HISTOGRAMS_DIR = "histograms"
SYSTEM_DIR = "system"
"""System metrics (CPU, memory, GPUs), sampled by a thread: chunks like ``history/``."""
MEDIA_DIR = "media"
"""The media index: chunks of rows (key, step, type, item, the stored file...)."""
CONSOLE_DIR = "console"
"""The console capture: chunks of rows naming the blobs that hold the output."""
CONSOLE_SPOOL = "console"
"""The console spool in a live run's write-ahead-log folder: what the process printed since its
last checkpoint, in memory-mapped segments ``<part>.spool`` (``runs.console``)."""
CODE_DIR = "code"
"""Saved code (``save_code=True``): ``code/manifest.parquet`` naming the blobs of the patch,
the entry point and the installed packages."""
CODE_MANIFEST = f"{CODE_DIR}/manifest.parquet"
"""The saved code's files (``runs.code``): artifact manifest rows, one per stored file."""
FILES_DIR = "files"
"""Files a script saved with the run (``run.save``, ``gittrack.wandb.save``):
``files/manifest.parquet`` naming their blobs under their saved names (``runs.files``)."""
FILES_MANIFEST = f"{FILES_DIR}/manifest.parquet"
OVERVIEW_DIR = "overview"
"""Overviews of large chunks of ``history/`` and ``system/`` (``runs.overview``): the overview of
``history/1/000000-000015.parquet`` is ``overview/history/1/000000-000015.parquet``. Outside
the chunk folders, so that a reader of every file of ``history/`` never reads one."""
OVERVIEW_DIRS = (HISTORY_DIR, SYSTEM_DIR)
"""The chunk folders whose large chunks get an overview."""
CHUNK_DIRS = (HISTORY_DIR, HISTOGRAMS_DIR, SYSTEM_DIR, MEDIA_DIR, CONSOLE_DIR)
"""Folders of chunks, compacted alike (``runs.compaction``); a checkpoint's chunks share its
numbers in every folder."""
STORED_FILE_DIRS = (MEDIA_DIR, CONSOLE_DIR, CODE_DIR, FILES_DIR)
"""Folders whose Parquet files name stored blobs: each has at least the columns of an
artifact manifest (path, digest, size, blob, ref), so that one reader tells gc, purge, push
and pull which blobs a run needs (``runs.reachability``)."""


def console_part_name(part: int) -> str:
    """The stored file of one part of a run's console output: ``console/output-000003.log``."""
    return f"{CONSOLE_DIR}/output-{part:06d}.log"


def run_ref(run_id: RunId) -> RefName:
    return RefName(namespace.RUNS + run_id)


FINAL = "final"
"""The folder of chunks compaction never merges again (``history/final/``), beside the level
folders ``history/0/``, ``history/1/``, ..."""


def chunk_path(directory: str, folder: str, first: int, last: int) -> str:
    """``history/0/000003.parquet`` (one chunk number) or ``history/1/000000-000015.parquet``
    (a merged chunk: the numbers it covers); ``folder`` "" is v1's flat ``history/000003.parquet``.
    Numbers have at least six digits; readers order chunks by their first number, not by name."""
    name = f"{first:06d}" if first == last else f"{first:06d}-{last:06d}"
    return f"{directory}/{folder}/{name}.parquet" if folder else f"{directory}/{name}.parquet"


def overview_path(chunk: str) -> str:
    """Where the overview of the chunk at path ``chunk`` (``history/0/000003.parquet``) is:
    ``overview/history/0/000003.parquet``."""
    return f"{OVERVIEW_DIR}/{chunk}"


def chunk_range(filename: str) -> tuple[int, int] | None:
    """The chunk numbers ``(first, last)`` a chunk's file name covers, or ``None`` for a name
    that is not a chunk's."""
    stem, dot, ext = filename.partition(".")
    first, dash, last = stem.partition("-")
    if not dot or ext != "parquet" or not _digits(first) or (dash and not _digits(last)):
        return None
    low, high = int(first), int(last) if dash else int(first)
    return (low, high) if low <= high else None


def level_folder(level: int) -> str:
    return str(level)


def folder_level(name: str) -> int | None:
    """The compaction level a folder of ``history/`` holds, or ``None`` (``final``, others)."""
    return int(name) if _digits(name) and len(name) <= 3 else None


def is_chunk_folder(name: str) -> bool:
    return name == FINAL or folder_level(name) is not None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


