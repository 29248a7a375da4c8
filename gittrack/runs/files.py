"""Files saved with a run (``run.save``, W&B's ``wandb.save``): stored as blobs of the
project's store (encrypted for a private project), named by ``files/manifest.parquet`` in the
run's checkpoints (the columns of an artifact manifest: push, pull, gc and purge know them,
``layout.STORED_FILE_DIRS``).

Policies, as W&B's: ``"now"`` stores the files at once; ``"live"`` (the default) at once and
again at ``finish`` if they changed; ``"end"`` at ``finish`` only. A file saved again under the
same name replaces the earlier one in the manifest (the latest checkpoint names the latest
bytes; earlier checkpoints keep the earlier ones). Read back with ``stored_files`` and
``RunStorage``/``BlobVault.cached`` (``gittrack.wandb.restore``).
"""

from __future__ import annotations

import glob
import os
import shutil
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gittrack.errors import GittrackError, GittrackWarning, InvalidValueError, UsageError
from gittrack.runs import layout
from gittrack.runs.state import Extra, Maker
from gittrack.storage.entry import check_entry_path

if TYPE_CHECKING:
    from gittrack.git.repo import Repository
    from gittrack.runs.live import Run
    from gittrack.storage.entry import ManifestEntry
    from gittrack.types import CommitId

POLICIES = ("live", "now", "end")


class SavedFiles:
    """One live run's saved files: the manifest so far, and the files still to store at
    ``finish`` (policies ``live`` and ``end``)."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._lock = threading.Lock()
        head = run.commit
        old = stored_files(run._own_repo(), head) if head is not None else []
        self.entries: dict[str, ManifestEntry] = {e.path: e for e in old}
        self.at_end: dict[str, str] = {}  # saved name -> local path, stored at finish

    def save(self, glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None,
             policy: str) -> list[str]:
        if policy not in POLICIES:
            raise InvalidValueError(f"save: policy must be one of {', '.join(POLICIES)}, "
                                    f"got {policy!r}")
        found = matches(glob_str, base_path)
        with self._lock:
            if policy != "now":
                self.at_end.update(found)
            stored = policy != "end" and self._store(found)
        if stored:  # committed before save() returns: the files survive a kill -9
            self._run._checkpoint()
        return sorted(found)

    def finish(self) -> None:
        """Store the ``live`` and ``end`` files as they are now (a file gone is skipped)."""
        with self._lock:
            present = {n: p for n, p in self.at_end.items() if os.path.isfile(p)}
            self.at_end.clear()
            if present:
                self._store(present)

    def _store(self, found: dict[str, str]) -> bool:
        """Store ``found``; whether the manifest changed (then the next checkpoint has it)."""
        run = self._run
        vault = run._storage.vault
        changed = False
        for name, path in sorted(found.items()):
            # a copy, not the file: the cache would hard-link it, and a training script
            # overwrites its checkpoint in place (torch.save truncates the same inode)
            with vault.temp_file() as temp:
                try:
                    shutil.copyfile(path, temp)
                except OSError as exc:
                    warnings.warn(f"gittrack: save: {path} is not saved: "
                                  f"{exc.strerror or exc}", GittrackWarning, stacklevel=5)
                    continue
                entry = vault.keep(temp, name, what="saved file")
            changed = changed or self.entries.get(name) != entry
            self.entries[name] = entry
        if changed:
            run._add_extra(manifest_maker(list(self.entries.values())))
        return changed


def manifest_maker(entries: list[ManifestEntry]) -> Maker:
    """Writes ``files/manifest.parquet`` in a checkpoint (the same bytes every call)."""
    from gittrack.artifacts.manifest import write_manifest

    data = write_manifest(sorted(entries, key=lambda e: e.path))
    return lambda: Extra(files={layout.FILES_MANIFEST: data})


def matches(glob_str: str | os.PathLike[str],
            base_path: str | os.PathLike[str] | None) -> dict[str, str]:
    """Saved name -> local path of the files ``glob_str`` matches (W&B's rule: names relative
    to ``base_path``; without it, relative to the current folder for a relative pattern, and
    the file name alone for an absolute one). A pattern matching nothing is remembered by
    W&B for later; here it is saved when ``finish`` finds it (``policy`` live or end)."""
    pattern = os.fspath(glob_str)
    if not isinstance(pattern, str) or not pattern:
        raise UsageError(f"save needs a path or glob pattern, got {glob_str!r}")
    if base_path is None:
        base = _fixed_prefix(pattern) if os.path.isabs(pattern) else "."
    else:
        base = os.fspath(base_path)
    base_abs = os.path.abspath(base)
    paths = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
    found: dict[str, str] = {}
    for path in paths:
        full = os.path.abspath(path)
        if glob.has_magic(pattern) and not os.path.isfile(full):
            continue
        relative = os.path.relpath(full, base_abs)
        if relative.startswith(".."):
            relative = os.path.basename(full)  # outside the base: its file name, as W&B
        found[check_entry_path(Path(relative).as_posix(), what="saved file name")] = full
    return found


def _fixed_prefix(pattern: str) -> str:
    """The folder of an absolute pattern before its first glob part: names below it keep
    their folders (``/x/out/**/*.pt`` saves ``deep/b.pt``)."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else os.path.dirname(pattern)


def stored_files(repo: Repository, commit: CommitId) -> list[ManifestEntry]:
    """The rows of ``files/manifest.parquet`` of run checkpoint ``commit`` (none saved: [])."""
    from gittrack.artifacts.manifest import read_manifest
    from gittrack.git import objects

    tree = objects.commit_tree(repo, commit)
    data = objects.read_file(repo, tree, layout.FILES_MANIFEST)
    if data is None:
        return []
    return read_manifest(data, what=f"{layout.FILES_MANIFEST} of commit {commit[:12]}")


def saved_files(run: Run) -> SavedFiles:
    """The run's ``SavedFiles``, made on first use (its finish stores the pending files)."""
    files: SavedFiles | None = run._saved_files
    if files is None:
        files = run._saved_files = SavedFiles(run)
        run._before_finish.append(_finisher(files))
    return files


def _finisher(files: SavedFiles) -> Callable[[], None]:
    def finish() -> None:
        try:
            files.finish()
        except (GittrackError, OSError) as exc:
            warnings.warn(f"gittrack: saved files not stored at finish: {exc}", GittrackWarning,
                          stacklevel=4)
    return finish

