"""Folding the write-ahead log of a run whose process died into a final ``crashed`` checkpoint."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pygit2

from gittrack.git.repo import gittrack_dir
from gittrack.runs.wal import RunLock, read_records, wal_root
from gittrack.types import CommitId, RunId

# Every command calls recover_dead_runs() first and almost always finds nothing to recover:
# the checkpoint machinery is imported only when a dead run's WAL is there to fold.

_STALE_TEMP_SECONDS = 3600


def recover_dead_runs(repo: pygit2.Repository) -> list[RunId]:
    """Recover every run under ``.git/gittrack/wal`` whose writer is gone; return their ids.

    A run whose writer still holds its lock is alive and left alone.
    """
    root = wal_root(gittrack_dir(repo))
    if not root.is_dir():
        return []
    recovered = []
    for directory in sorted(root.iterdir()):
        if directory.name.startswith("."):
            _remove_stale_temp(directory)
        elif directory.is_dir() and recover_run(repo, RunId(directory.name), directory):
            recovered.append(RunId(directory.name))
    return recovered


def recover_run(repo: pygit2.Repository, run_id: RunId, directory: Path) -> bool:
    """Fold ``directory``'s WAL into the run; False if its writer is alive."""
    lock = RunLock.try_acquire(directory)
    if lock is None:
        return False
    try:
        if not directory.exists():
            return True  # another recoverer finished it between our look and our lock
        from gittrack.runs import store

        head = store.head(repo, run_id)
        if head is not None:
            _fold(repo, run_id, head, directory)
        shutil.rmtree(directory, ignore_errors=True)
        return True
    finally:
        lock.release()


def _fold(repo: pygit2.Repository, run_id: RunId, head: str, directory: Path) -> None:
    from gittrack.runs import store
    from gittrack.runs.checkpoint import Checkpointer, run_document
    from gittrack.runs.metadata import parse_iso
    from gittrack.runs.state import RunState

    cp = store.load_checkpoint(repo, CommitId(head))
    state = RunState.restore(
        start_time=parse_iso(cp.info["created_at"]), resume=cp.resume, config=cp.config,
        summary=cp.summary, metrics=cp.info.get("metrics") or {}, meta={},
    )
    last_time = None
    replayed = 0
    for record in read_records(directory, state.seq):
        state.apply(record)
        replayed += 1
        if record[0] == "log":
            last_time = record[2]
    if cp.info.get("state") != "running" and not replayed:
        return  # finished cleanly; only the WAL folder was left behind
    snap = state.snapshot(final=True)
    info = {k: v for k, v in cp.info.items() if k not in ("metrics",)}
    ended = max(last_time or 0.0, parse_iso(cp.info.get("updated_at") or cp.info["created_at"]))
    doc = run_document(info, snap, state="crashed", now=time.time(), ended=ended)
    Checkpointer(repo, run_id, CommitId(head)).write([snap], doc)


def _remove_stale_temp(directory: Path) -> None:
    try:
        age = time.time() - directory.stat().st_mtime
    except FileNotFoundError:
        return
    if age > _STALE_TEMP_SECONDS:
        lock = RunLock.try_acquire(directory)
        if lock is not None:
            shutil.rmtree(directory, ignore_errors=True)
            lock.release()
