"""Starting a new run, or resuming an existing one, in a repository."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from gittrack.errors import NotFoundError, RepositoryError, RunExistsError, RunLockedError
from gittrack.formats.values import check_document, check_label, entry_bytes, readable, to_plain
from gittrack.git import codestate
from gittrack.git.repo import (
    Repository,
    enable_fsync,
    ensure_writable_dir,
    gittrack_dir,
    work_folder,
)
from gittrack.runs import code, coderefs, layout, store
from gittrack.runs.ids import check_run_id, new_run_id
from gittrack.runs.info import RunInfo
from gittrack.runs.live import Run, check_notes, check_tags, config_items
from gittrack.runs.liveness import run_logs
from gittrack.runs.metadata import environment, parse_iso, utc_iso
from gittrack.runs.names import random_name
from gittrack.runs.recover import describe, recover_run
from gittrack.runs.run_storage import RunStorage
from gittrack.runs.state import LiveState
from gittrack.runs.wal import WalWriter, wal_root
from gittrack.settings import Settings
from gittrack.types import CommitId, RunId


def create_run(
    repo: Repository, *, run_id: str | None, name: str | None, project: str | None,
    config: Any, tags: Iterable[str] | None, notes: str | None, group: str | None,
    job_type: str | None, settings: Settings, clock: Callable[[], float] | None = None,
    imported_from: dict[str, Any] | None = None,
) -> Run:
    """A new run. ``clock`` (default ``time.time``) stamps its start, rows and checkpoints, and
    ``imported_from`` goes to ``run.yaml`` as it is: both for importers (``gittrack.importers``),
    which keep a source run's own times and say where it came from."""
    rid = check_run_id(run_id) if run_id is not None else new_run_id()
    if store.head(repo, rid) is not None:
        raise RunExistsError(
            f"run {rid} exists already: pass resume='allow' (or 'must') to continue it"
        )
    items = initial_config(config)
    labels = {"name": check_label("name", name), "project": check_label("project", project),
              "group": check_label("group", group), "job_type": check_label("job_type", job_type),
              "tags": check_tags(tags), "notes": check_notes(notes)}
    root = ensure_writable_dir(wal_root(gittrack_dir(repo)))
    enable_fsync()
    now = time.time() if clock is None else clock()
    state = LiveState(start_time=now)
    storage = RunStorage(repo)
    code_info: dict[str, Any] = {**codestate.code_state(repo).to_dict(), "saved": False}
    if code.wanted(repo, settings):
        code_info.update(_save_code(repo, state, storage))
    info: dict[str, Any] = {
        "format": layout.FORMAT,
        "id": rid,
        **labels,
        "created_at": utc_iso(now),
        # Facts read from the system (paths, argv, branch) may hold undecodable bytes: kept
        # readable, not refused, since the user cannot change them for this run.
        "code": readable(code_info),
        **readable(environment()),
    }
    if imported_from is not None:
        info["imported_from"] = readable(imported_from)
    if info["name"] is None:
        info["name"] = random_name(rid)
    if info["project"] is None:
        info["project"] = _default_project(repo)
    state.config = items
    wal = WalWriter.create(root, rid, next_seq=1)
    return _open(repo, rid, info, state, wal, None, settings, storage, clock)


def resume_run(
    repo: Repository, run_id: RunId, *, config: Any, tags: Iterable[str] | None,
    notes: str | None, settings: Settings,
) -> Run:
    """Continue ``run_id`` from its last checkpoint (folding a dead process's WAL first)."""
    items, new_tags, new_notes = initial_config(config), check_tags(tags), check_notes(notes)
    root = ensure_writable_dir(wal_root(gittrack_dir(repo)))
    _fold_dead_logs(repo, run_id)
    head = store.head(repo, run_id)
    if head is None:
        raise NotFoundError(f"no run with id {run_id} to resume")
    enable_fsync()
    cp = store.load_checkpoint(repo, head)
    info = {k: v for k, v in cp.info.document.items()
            if k not in ("state", "updated_at", "ended_at", "duration", "exit_code", "steps",
                         "metrics")}
    info["resumed"] = (cp.info.resumed or 0) + 1
    info["resumed_at"] = utc_iso(time.time())
    state = LiveState.restore(
        start_time=parse_iso(str(cp.info.created_at)), resume=cp.resume, config=cp.config,
        summary=cp.summary, metrics=dict(cp.info.metrics), meta={},
    )
    state.config.update(items)
    if new_tags:
        info["tags"] = list(dict.fromkeys([*cp.info.tags, *new_tags]))
    if new_notes is not None:
        info["notes"] = new_notes
    storage = RunStorage(repo)
    if code.wanted(repo, settings) and not code.has_code(repo, head):
        # the saved files go with the code this process runs: its commit, branch, dirty flag
        info["code"] = readable({**codestate.code_state(repo).to_dict(),
                                 **_save_code(repo, state, storage)})
    wal = WalWriter.create(root, run_id, next_seq=state.seq + 1)
    return _open(repo, run_id, info, state, wal, head, settings, storage)


def _save_code(repo: Repository, state: LiveState, storage: RunStorage) -> dict[str, Any]:
    """Store the run's code (``runs.code``) for the first checkpoint to name; the fields
    ``run.yaml``'s ``code`` adds."""
    saved = code.save(repo, storage)
    state.extras.append(saved.maker())
    return saved.fields


def _open(
    repo: Repository, run_id: RunId, info: dict[str, Any], state: LiveState, wal: WalWriter,
    head: CommitId | None, settings: Settings, storage: RunStorage,
    clock: Callable[[], float] | None = None,
) -> Run:
    """The live ``Run`` over ``wal``; if it cannot start, ``wal`` is closed, and removed when
    it was a new run's (a resumed run's log may hold what its last process left)."""
    try:
        # the run keeps its code commit reachable whatever becomes of the branch (runs.coderefs)
        coderefs.keep(repo, coderefs.code_commit_of(info))
        return Run(repo=repo, run_id=run_id, info=RunInfo.written(info), state=state, wal=wal,
                   head=head, settings=settings, storage=storage, clock=clock)
    except BaseException:
        wal.close(remove=head is None)
        raise


def _fold_dead_logs(repo: Repository, run_id: RunId) -> None:
    """Fold the log a dead process left for ``run_id`` in any worktree (refs are shared by
    worktrees, logs are not); refuse if a live process writes the run or a log cannot be
    folded, since continuing without it would lose its steps."""
    for directory in (log.directory for log in run_logs(repo, run_id)):
        try:
            alive = not recover_run(repo, run_id, directory)
        except Exception as exc:  # whatever the cause, the steps in that log are not lost
            raise RepositoryError(
                f"cannot resume run {run_id}: the write-ahead log a dead process left in "
                f"{directory} cannot be folded ({describe(exc)}); it is kept"
            ) from None
        if alive:
            raise RunLockedError(
                f"run {run_id} is being written by another live process (its write-ahead "
                f"log is {directory})"
            )


def initial_config(config: Any) -> dict[str, Any]:
    """``init(config=...)`` as plain YAML data; keys become strings as in ``config.yaml``."""
    plain = to_plain(config_items(config), where="config")
    assert isinstance(plain, dict)
    check_document({k: entry_bytes(k, v) for k, v in plain.items()}, what="config.yaml")
    return plain


def _default_project(repo: Repository) -> str:
    """The repository's folder name, as W&B defaults to the script's folder."""
    from pathlib import Path

    base = Path(work_folder(repo))
    name = readable(base.resolve().name)
    return name.removesuffix(".git") or "default"
