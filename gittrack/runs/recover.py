"""Folding the write-ahead log of a run whose process died into a final ``crashed`` checkpoint.

Recovery runs before every command that writes, ``init()`` and ``Api(recover=True)``, so it
must never stop them: a run whose log cannot be folded (a full disk, a stale ``<ref>.lock``,
data that cannot be written, a bug) is reported with the reason and skipped, and its log is
kept, never deleted.
A failure that retrying will not fix puts the log in quarantine (``wal.QUARANTINE_FILE``): the
automatic passes then report it without reading it again, and ``gittrack recover`` (or resuming
the run) retries it. A damaged log (``wal.Damage``) is folded up to and past the damage, then
kept in quarantine as the evidence of what was lost.

Reading never writes: a command that only reads, and ``Api()``, do not recover; they name each
dead run whose log is not folded (``dead_run_notes``) and show it as it stands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from gittrack._version import __version__
from gittrack.errors import ConflictError, GittrackError, GittrackWarning, RepositoryError
from gittrack.git.repo import Repository
from gittrack.runs.liveness import dead_logs, run_logs
from gittrack.runs.wal import (
    QUARANTINE_FILE,
    Damage,
    RunLock,
    is_held,
    read_records,
    wal_roots,
    writer_token,
)
from gittrack.types import CommitId, RunId

if TYPE_CHECKING:
    from gittrack.runs.store import Checkpoint

# Every writing command calls recover_all() first and almost always finds nothing to recover:
# the checkpoint machinery is imported only when a dead run's WAL is there to fold.

_STALE_TEMP_SECONDS = 3600


class _Quarantined(Exception):
    """A log in quarantine, not retried by an automatic pass (its reason is the message)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Unrecovered:
    """A dead run whose log could not be folded; the log stays in ``directory``."""

    run_id: RunId
    directory: Path
    reason: str
    damaged: bool = False
    """The log was folded around damaged bytes; it is kept as the evidence of what was lost."""

    @property
    def message(self) -> str:
        if not self.run_id:  # a wal folder that could not be listed
            return f"cannot look for crashed runs in {self.directory} ({self.reason})"
        if self.damaged:
            return (f"run {self.run_id} was recovered from a damaged write-ahead log "
                    f"({self.reason}); the log is kept in {self.directory}")
        return (f"run {self.run_id} crashed and its write-ahead log cannot be folded "
                f"({self.reason}); the log is kept in {self.directory}: `gittrack recover` "
                f"retries it, `gittrack rm {self.run_id}` deletes the run and its log")


@dataclasses.dataclass(slots=True)
class Recovery:
    """What one pass did: runs recovered, runs it could not recover, runs alive."""

    recovered: list[RunId] = dataclasses.field(default_factory=list)
    unrecovered: list[Unrecovered] = dataclasses.field(default_factory=list)
    live: list[RunId] = dataclasses.field(default_factory=list)


def recover_all(repo: Repository, *, retry: bool = False) -> Recovery:
    """Recover every dead run's log in every worktree of ``repo``; never raises for one run.

    ``retry`` also folds logs in quarantine (``gittrack recover``)."""
    report = Recovery()

    def unlisted(root: Path, exc: OSError) -> None:
        report.unrecovered.append(Unrecovered(RunId(""), root, describe(exc)))

    for log in run_logs(repo, on_error=unlisted):
        if log.live:
            report.live.append(log.run_id)
        else:
            _recover_one(repo, log.run_id, log.directory, retry, report)
    _remove_stale_temps(repo)
    return report


def _recover_one(
    repo: Repository, run_id: RunId, directory: Path, retry: bool, report: Recovery
) -> None:
    try:
        recovered = recover_run(repo, run_id, directory, retry=retry)
    except Exception as exc:  # any failure is this run's: report it and go on with the rest
        damaged = isinstance(exc, _DamagedLogError)
        report.unrecovered.append(Unrecovered(run_id, directory, describe(exc), damaged))
        return
    (report.recovered if recovered else report.live).append(run_id)


def recover_dead_runs(repo: Repository) -> list[RunId]:
    """Recover every dead run (see ``recover_all``); return their ids. Each run that cannot
    be recovered is named in a ``GittrackWarning`` with the reason."""
    report = recover_all(repo)
    for bad in report.unrecovered:
        warnings.warn(f"gittrack: {bad.message}", GittrackWarning, stacklevel=2)
    return report.recovered


def dead_run_notes(repo: Repository) -> list[str]:
    """What a reader says instead of recovering: one line per run whose writer is dead and
    whose log is not folded (the run reads as it stands: ``crashed`` at its last checkpoint).
    Only looks: nothing is written."""
    notes = []
    for log in dead_logs(repo):
        reason = quarantine_reason(log.directory)
        if reason is not None:  # an automatic pass would not fold it either
            notes.append(Unrecovered(log.run_id, log.directory, reason).message)
        else:
            notes.append(f"run {log.run_id} crashed and its write-ahead log ({log.directory}) "
                         "holds steps not yet recorded in the repository: `gittrack recover` "
                         "(or any command that writes: init, resume, push, pull) folds them")
    return notes


def recover_run(
    repo: Repository, run_id: RunId, directory: Path, *, retry: bool = True
) -> bool:
    """Fold ``directory``'s WAL into the run and delete it; False if its writer is alive.

    Raises whatever the fold raised (the log is then kept, and put in quarantine unless the
    cause may pass: a full or read-only disk, a locked ref). Without ``retry``, a log in
    quarantine is not read again."""
    if is_held(directory):  # looks without writing: a reader of a read-only .git may ask
        return False
    lock = RunLock.try_acquire(directory)
    if lock is None:
        return False
    try:
        if not directory.exists():
            return True  # another recoverer finished it between our look and our lock
        if not retry:
            reason = quarantine_reason(directory)
            if reason is not None:
                raise _Quarantined(reason)
        try:
            _fold_log(repo, run_id, directory)
        except Exception as exc:
            if not _may_pass(exc):
                _quarantine(directory, describe(exc))
            raise
        shutil.rmtree(directory, ignore_errors=True)
        return True
    finally:
        lock.release()


def describe(exc: BaseException) -> str:
    """One line saying why: gittrack's own message, or the exception's type and message
    (printable whatever it holds: a message may quote the bad value)."""
    if isinstance(exc, (GittrackError, _Quarantined)):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f" ({exc.filename})" if exc.filename else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.encode("utf-8", "backslashreplace").decode().split())


def _may_pass(exc: BaseException) -> bool:
    """A cause outside the log (disk, permissions, another process's lock) that may go away."""
    if isinstance(exc, _ForeignLogError):
        return False
    return isinstance(exc, (OSError, RepositoryError, ConflictError))


def quarantine_reason(directory: Path) -> str | None:
    """Why the log in ``directory`` is in quarantine; ``None`` if it is not, or if the note
    was written by another version of gittrack (which may fold it: it is retried)."""
    try:
        version, _, reason = (directory / QUARANTINE_FILE).read_text(errors="replace").partition(
            "\n")
    except OSError:
        return None
    if version.strip() != f"gittrack {__version__}":
        return None
    return reason.strip() or "unknown"


def _quarantine(directory: Path, reason: str) -> None:
    with contextlib.suppress(OSError):  # a read-only .git: the log is read again next time
        (directory / QUARANTINE_FILE).write_text(f"gittrack {__version__}\n{reason}\n",
                                                 errors="replace")


class _DamagedLogError(GittrackError):
    """The log holds damaged bytes: every intact record around them was folded, the log is
    kept (in quarantine) as the evidence of what was lost."""

    def __init__(self, damage: list[Damage]) -> None:
        where = "; ".join(str(d) for d in damage)
        super().__init__(
            f"the log is damaged ({where}): the records in those bytes are lost, every intact "
            "record before and after them was folded into the run; delete the folder once "
            "you have looked at it"
        )


class _ForeignLogError(ConflictError):
    """The run's head was written by another process since this log's last checkpoint."""


def _fold_log(repo: Repository, run_id: RunId, directory: Path) -> None:
    from gittrack.runs import store

    head = store.head(repo, run_id)
    if head is None:
        return  # died before its first checkpoint: nothing was committed
    cp = store.load_checkpoint(repo, CommitId(head))
    token = writer_token(directory)
    if token is None or cp.resume.get("writer") in (None, token):
        _fold(repo, run_id, cp, directory)
        return
    # The head continues another log (the run was resumed elsewhere without this one being
    # folded): replaying this log on top of it would drop or misplace rows, so keep it.
    after = 0
    for _, resume in store.resumes(repo, CommitId(head)):
        if resume.get("writer") == token:
            after = int(resume.get("wal_seq", 0))
            break
    left = sum(1 for _ in read_records(directory, after))
    if left:
        raise _ForeignLogError(
            f"the run was continued by another process after this log's last checkpoint; "
            f"its {left} records after that checkpoint are not folded, so that no step is "
            "written twice"
        )


def _fold(
    repo: Repository, run_id: RunId, cp: Checkpoint, directory: Path
) -> None:
    from gittrack.runs.checkpoint import Checkpointer, run_document
    from gittrack.runs.info import RunState
    from gittrack.runs.media import maker_for
    from gittrack.runs.metadata import parse_iso
    from gittrack.runs.run_storage import RunStorage
    from gittrack.runs.state import LiveState

    created = parse_iso(str(cp.info.created_at))
    state = LiveState.restore(
        start_time=created, resume=cp.resume, config=cp.config,
        summary=cp.summary, metrics=dict(cp.info.metrics), meta={},
    )
    state.media_maker = maker_for(directory, RunStorage(repo))  # re-encoded from the spool
    last_time = None
    replayed = 0
    damage: list[Damage] = []
    for record in read_records(directory, state.seq, damage):
        state.apply(record)
        replayed += 1
        if record[0] == "log":
            last_time = record[2]
    if cp.info.state != RunState.RUNNING and not replayed:
        if damage:  # folded by an earlier pass: the log stays until someone looks at it
            raise _DamagedLogError(damage)
        return  # finished cleanly; only the WAL folder was left behind
    snap = state.snapshot(final=True)
    info = cp.info.without(("metrics",))
    updated = cp.info.updated_at
    ended = max(last_time or 0.0, parse_iso(updated) if updated else created)
    doc = run_document(info, snap, state=RunState.CRASHED, now=time.time(), ended=ended)
    Checkpointer(repo, run_id, cp.commit).write([snap], doc)
    if damage:  # recovered what could be; the log is kept and the run named in a warning
        raise _DamagedLogError(damage)


def _remove_stale_temps(repo: Repository) -> None:
    """``.tmp-*`` folders of logs whose creation was cut short long ago."""
    for root in wal_roots(repo):
        for directory in root.glob(".*"):  # nothing when the folder cannot be listed
            with contextlib.suppress(OSError):
                _remove_stale_temp(directory)


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

