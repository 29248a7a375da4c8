"""Which runs are live: the one answer, read from the writers' locks in every worktree.

A run's write-ahead log (``gittrack.runs.wal``) sits in the ``wal`` folder of the worktree
whose process writes it, while run refs are shared by every worktree: so whoever asks about a
run's log (pull, delete, recovery, resume, a reader showing a run) looks in all of them. The
writer holds its log's ``lock`` (``flock``) until it dies, however it dies: a held lock is a
live writer (or a recoverer folding the log), a free one a dead writer whose log is not folded
yet. Looking writes nothing (``wal.is_held``), so a reader of a read-only ``.git`` may ask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from gittrack.errors import RunLockedError
from gittrack.git.repo import Repository
from gittrack.runs import ids
from gittrack.runs.wal import RunLock, is_held, wal_roots
from gittrack.types import RunId


@dataclasses.dataclass(frozen=True, slots=True)
class RunLog:
    """A run's write-ahead log in one worktree."""

    run_id: RunId
    directory: Path
    live: bool
    """A process holds its lock: the writer, or a recoverer. If not, the writer is gone and
    the steps it logged after its last checkpoint are in this log only."""


def run_logs(
    repo: Repository, run_id: RunId | None = None, *,
    on_error: Callable[[Path, OSError], None] | None = None,
) -> list[RunLog]:
    """The write-ahead logs of ``run_id`` (of every run: ``None``) in every worktree, this
    worktree's first. A ``wal`` folder that cannot be listed goes to ``on_error`` (else it is
    skipped: no log can be read from it either)."""
    return [RunLog(RunId(directory.name), directory, is_held(directory))
            for root in wal_roots(repo) for directory in _folders(root, run_id, on_error)]


def _folders(root: Path, run_id: RunId | None,
             on_error: Callable[[Path, OSError], None] | None) -> list[Path]:
    if run_id is not None:
        return [root / run_id] if (root / run_id).is_dir() else []
    try:
        found = sorted(root.iterdir()) if root.is_dir() else []
    except OSError as exc:
        if on_error is not None:
            on_error(root, exc)
        return []
    # A ".tmp-*" folder is a log being created: it is renamed into place once locked.
    return [p for p in found if not p.name.startswith(".") and p.is_dir()]


def live_runs(repo: Repository) -> set[RunId]:
    """Runs a live process is writing now, in any worktree."""
    return {log.run_id for log in run_logs(repo) if log.live}


def unfolded_runs(repo: Repository) -> set[RunId]:
    """Runs with a write-ahead log in any worktree, live or dead: their ref may not hold
    their latest steps yet."""
    return {log.run_id for log in run_logs(repo)}


def dead_logs(repo: Repository) -> list[RunLog]:
    """One log per run whose writer is gone and whose log is not folded yet."""
    found: dict[RunId, RunLog] = {}
    for log in run_logs(repo):
        if not log.live:
            found.setdefault(log.run_id, log)
    return list(found.values())


def dead_log(repo: Repository, run_id: RunId) -> Path | None:
    """A write-ahead log of ``run_id`` whose writer is gone (not folded yet), in any worktree."""
    return next((log.directory for log in run_logs(repo, run_id) if not log.live), None)


@contextlib.contextmanager
def held_logs(repo: Repository, run_ids: Sequence[RunId]) -> Iterator[set[str]]:
    """Hold the lock of each run's logs in every worktree while the runs are deleted (a live
    writer would write the ref again): ``RunLockedError`` if a live process writes one.
    Yields a set the caller fills with the runs it did not delete; the others' logs are
    deleted on the way out (they hold the runs' latest steps too)."""
    held: list[tuple[RunLock, Path]] = []
    try:
        for run_id in run_ids:
            if not ids.is_valid_run_id(run_id):
                continue  # a forged ref: gittrack never wrote a log for it, nor a path from it
            for log in run_logs(repo, run_id):
                lock = None if log.live else RunLock.try_acquire(log.directory)
                if lock is None:
                    raise RunLockedError(f"run {run_id} is being written by a live process: "
                                         "finish or stop it first")
                held.append((lock, log.directory))
        keep: set[str] = set()
        yield keep
        for _, directory in held:
            if directory.name not in keep:
                shutil.rmtree(directory, ignore_errors=True)
    finally:
        for lock, _ in held:
            lock.release()
