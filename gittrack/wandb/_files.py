"""``wandb.save`` and ``wandb.restore``: files saved with a run (``gittrack.runs.files``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO, Any

from gittrack.errors import NotFoundError, UsageError


def run_id_of(run_path: str) -> str:
    """The run id in W&B's run paths: ``entity/project/run_id``, ``entity/project/runs/id``,
    ``project/run_id`` or ``run_id`` (a gittrack id, id prefix or name)."""
    parts = [p for p in run_path.strip().strip("/").split("/") if p and p != "runs"]
    if not parts:
        raise UsageError(f"not a run path: {run_path!r}")
    return parts[-1]


def restore(name: str, run_path: str | None = None, replace: bool = False,
            root: str | os.PathLike[str] | None = None) -> IO[Any]:
    """Fetch the file ``name`` a run saved (``run_path``, default the current run) into
    ``root`` (default: the current run's ``dir``, else the current folder) and return it
    opened for reading. A file already there is kept unless ``replace``. The bytes come
    from the local cache, else the project's store (downloaded and decrypted)."""
    from gittrack.runs.files import stored_files
    from gittrack.runs.resolve import resolve_run
    from gittrack.storage.entry import check_entry_path
    from gittrack.storage.project import open_storage
    from gittrack.wandb import _session

    name = check_entry_path(Path(os.fspath(name)).as_posix(), what="file name")  # no ../
    current = _session.current_run()
    if run_path is None:
        if current is None:
            raise UsageError("wandb.restore() needs run_path= outside a run")
        run_path = current.path
    base = Path(root) if root is not None else Path(
        current.dir if current is not None else os.getcwd())
    target = base / name
    if target.is_file() and not replace:
        return open(target)
    from gittrack.git.repo import discover

    repo = discover(os.environ.get("GITTRACK_REPO"))
    view = resolve_run(repo, run_id_of(run_path))
    entries = {e.path: e for e in stored_files(repo, view.commit)}
    entry = entries.get(name)
    if entry is None:
        known = ", ".join(sorted(entries)[:10]) or "none"
        raise NotFoundError(f"run {view.id} saved no file {name!r} (saved: {known})")
    cached = open_storage(repo).cached(entry, what="saved file")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.gittrack-tmp")
    shutil.copyfile(cached, temp)
    os.replace(temp, target)
    return open(target)
