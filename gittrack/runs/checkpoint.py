"""Turning snapshots of a run into a checkpoint commit on ``refs/gittrack/runs/<id>``."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gittrack.formats import table, yamlio
from gittrack.git import objects, refs
from gittrack.git.repo import Repository, drop_caches
from gittrack.runs import compaction, layout
from gittrack.runs.info import RunInfo, RunState
from gittrack.runs.state import Snapshot
from gittrack.types import CommitId, RunId

if TYPE_CHECKING:
    import pyarrow as pa


DROP_CACHES_EVERY = 64
"""Commits between two drops of the repository handle's object cache (``drop_caches``): it
then holds the trees of at most this many checkpoints, and reopening the object database
(about 2 ms in a repository of 5,000 runs) is paid once in so many checkpoints."""


class Checkpointer:
    """Writes commits for one run; each new commit's parent is the previous checkpoint.

    Between commits it keeps the next chunk number and, per folder, the compaction plan
    (``compaction.Compactor``): bounded, whatever the number of checkpoints."""

    def __init__(self, repo: Repository, run_id: RunId, head: CommitId | None) -> None:
        self.repo = repo
        self.run_id = run_id
        self.ref = layout.run_ref(run_id)
        self.head = head
        self.commits = 0
        tree = objects.commit_tree(repo, head) if head is not None else None
        self.folders: dict[str, compaction.Compactor] = {}
        self.next_chunk = 0
        for folder in layout.CHUNK_DIRS:
            chunks = compaction.list_chunks(repo, tree, folder) if tree is not None else []
            self.folders[folder] = compaction.Compactor(repo, folder, chunks, FIRST_COLUMNS[folder])
            self.next_chunk = max([self.next_chunk, *(c.last + 1 for c in chunks)])

    def write(self, snapshots: Sequence[Snapshot], info: RunInfo) -> CommitId:
        """Commit every snapshot's rows and the last one's state.

        A snapshot's rows make one chunk, or several consecutive ones when one would decode
        to more than a reader accepts (``table.split``); ``history`` and ``histograms``
        chunks share the numbers of the snapshot that wrote them. Then the chunks compaction
        merges are merged, in the same commit."""
        files: dict[str, objects.FileContent] = {}
        base = objects.commit_tree(self.repo, self.head) if self.head else None
        number = self.next_chunk
        for snap in snapshots:
            parts = {layout.HISTORY_DIR: self._history(snap),
                     layout.HISTOGRAMS_DIR: table.split(table.histogram_table(snap.histograms))
                     if snap.histograms else []}
            for extra in snap.extras:  # media, system metrics, console: made here, not in log()
                made = extra()
                for folder, tables in made.tables.items():
                    parts.setdefault(folder, []).extend(
                        piece for t in tables for piece in table.split(t))
                files.update(made.files)
            for folder, tables in parts.items():
                for offset, part in enumerate(tables):
                    self.folders[folder].write(files, base, part, number + offset)
            number += max(len(tables) for tables in parts.values())
        merged = [compactor.compact(files, base) for compactor in self.folders.values()]
        last = snapshots[-1]
        for path, data in ((layout.RUN_YAML, info.to_yaml()),
                           (layout.CONFIG_YAML, yamlio.dump(last.config)),
                           (layout.SUMMARY_YAML, yamlio.dump(last.summary)),
                           (layout.RESUME_YAML, yamlio.dump(last.resume))):
            if base is None or objects.entry_id(base, path) != objects.blob_id(data):
                files[path] = data  # an unchanged file keeps its entry: nothing to hash or write
        state, step = info.state, last.resume["next_step"]
        message = f"gittrack: run {self.run_id} ({state}, step {step})"
        parents = [self.head] if self.head else []
        # A full disk or a read-only .git: a RepositoryError naming the object or ref
        # (gittrack.git.repo.writing), kept and retried by the run.
        tree = objects.write_tree(self.repo, base, files)
        commit = objects.commit(self.repo, tree, parents, message)
        refs.update_ref(self.repo, self.ref, commit, self.head)
        self.head = commit
        self.next_chunk = number
        self.commits += 1
        # Housekeeping of a commit already made: were it to raise, the run would commit the
        # same rows again, so nothing of it may.
        with contextlib.suppress(Exception):
            if self.commits % DROP_CACHES_EVERY == 0:
                drop_caches(self.repo)  # the trees looked up are not read again: flat memory
            if any(merged):  # a merge's tens of MB, held by allocators until the next one
                files.clear()
                table.release_memory()
        return commit

    @staticmethod
    def _history(snap: Snapshot) -> list[pa.Table]:
        if not snap.history.rows:
            return []
        h = snap.history
        block = h.float_block()
        if block is not None:
            keys, steps, timestamps, values = block
            return table.split(table.float_history_table(
                steps, timestamps, snap.start_time, keys, values))
        times = h.timestamps()
        return table.split(table.history_table(
            h.steps(), times, [t - snap.start_time for t in times], h.columns()))


FIRST_COLUMNS: dict[str, tuple[str, ...]] = {
    layout.HISTORY_DIR: table.SYSTEM_COLUMNS,
    layout.HISTOGRAMS_DIR: ("key", table.STEP),
    layout.SYSTEM_DIR: table.SYSTEM_COLUMNS,
    layout.MEDIA_DIR: ("path", "digest", "size", "blob", "ref", "key", "step"),
    layout.CONSOLE_DIR: (),
}
"""The columns a merged chunk of each folder starts with."""

_FIRST_KEYS = ("format", "id", "name", "project", "group", "job_type", "tags", "notes", "state",
               "created_at", "updated_at", "ended_at", "duration", "exit_code", "code")


def run_document(
    info: RunInfo, snap: Snapshot, *, state: RunState, now: float,
    ended: float | None = None, exit_code: int | None = None,
) -> RunInfo:
    """``run.yaml``: the static facts, user-changed fields, and the state at this checkpoint."""
    from gittrack.runs.metadata import parse_iso, utc_iso

    merged: dict[str, Any] = {**info.document, **snap.meta}
    # This gittrack writes v2 shapes: a run begun by an older one (resumed, or recovered from
    # its log) says so from its first checkpoint written here.
    merged["format"] = layout.FORMAT
    merged["state"] = state.value
    merged["updated_at"] = utc_iso(now)
    merged["ended_at"] = utc_iso(ended) if ended is not None else None
    created = parse_iso(merged["created_at"])
    merged["duration"] = round((ended if ended is not None else now) - created, 6)
    merged["exit_code"] = exit_code
    merged["steps"] = snap.resume["next_step"]
    merged["metrics"] = snap.metrics
    earlier = info.document.get(COMMITS_KEY)
    earlier = earlier if isinstance(earlier, dict) else {}  # checked by RunInfo.from_yaml
    lineage = artifact_lineage(
        {**info.artifacts, **{f"{role}_commits": earlier.get(role) or () for role in _ROLES}},
        snap.artifacts)
    labels = {role: lineage[role] for role in _ROLES if role in lineage}
    commits = {role: lineage[f"{role}_commits"] for role in _ROLES
               if f"{role}_commits" in lineage}
    if labels:
        merged["artifacts"] = labels
    if commits:
        merged[COMMITS_KEY] = commits
    ordered = {key: merged[key] for key in _FIRST_KEYS if key in merged}
    ordered.update((k, v) for k, v in merged.items() if k not in ordered)
    return RunInfo.written(ordered)


_ROLES = ("used", "logged")
COMMITS_KEY = "artifact_commits"
"""``run.yaml``'s key beside ``artifacts``: for each role, the commit and content of each
version listed (``runs.lineage``). Apart from ``artifacts``, whose shape older readers check,
so that they read such a run and ignore it."""


def artifact_lineage(
    before: Mapping[str, Sequence[str]], new: dict[str, list[str]]
) -> dict[str, list[str]]:
    """``run.yaml``'s ``artifacts: {used: [...], logged: [...]}`` and the commits beside them
    (as ``used_commits``, ``logged_commits``; written under ``COMMITS_KEY``): what an earlier
    process of the run recorded (resumed or recovered runs), then this one's, without
    repeats."""
    merged: dict[str, list[str]] = {}
    for role in ("used", "logged", "used_commits", "logged_commits"):
        specs = list(dict.fromkeys([*before.get(role, ()), *new.get(role, [])]))
        if specs:
            merged[role] = specs
    return merged
