"""A local cache of parsed run checkpoints, keyed by commit id, with the listing fields as
columns: what lets ``gittrack runs`` list and filter 100,000 runs in well under a second.

Listing runs reads ``run.yaml``, ``config.yaml`` and ``summary.yaml`` of every run, and parsing
that YAML is most of the time it takes (about 0.4 ms a run here). A commit never changes, so an
entry never goes stale: each listing parses only the heads the cache does not hold yet (a new
run, a new checkpoint) and drops the entries of commits no longer a head. The cache is a
sqlite file in ``.git/gittrack/cache/`` (``blobs.sqlitefile``: local only, safe to delete, a
corrupt file is started over, a read-only ``.git`` works without it).

What the listing needs is read as plain columns, and a run's documents are decoded only when a
filter or a view asks for them (``CachedRun``): filtering 100,000 runs by state never decodes
a document. Nothing read from the cache is trusted: a view's checkpoint is checked as a parse
would check it (``RunInfo.from_yaml``) when it is first read, and an entry that fails is read
from git instead; an entry is only used for the ref it names (``run_id``). Only data that JSON
holds exactly is cached; anything else (dates or binary in a hand-edited YAML file) is parsed
from git every time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gittrack.blobs.sqlitefile import SqliteFile
from gittrack.errors import FormatError, GittrackError
from gittrack.git.repo import Repository, gittrack_dir
from gittrack.runs import liveness, store
from gittrack.runs.info import SHAPES, RunInfo, RunState
from gittrack.types import CommitId, RunId

VERSION = 2
"""Of the cache's layout: another version's file is another file (``cache_path``)."""

ErrorHandler = Callable[[RunId, GittrackError], None]

# run.yaml fields held as columns: a filter on them decodes nothing. A validated document has
# a text or None in each (``info.SHAPES``); "tags" and "code" are JSON, decoded when asked for.
FIELDS = ("name", "project", "group", "job_type", "state", "created_at", "tags", "code")
_JSON_FIELDS = frozenset(("tags", "code"))
_UNKNOWN = 1 << len(FIELDS)  # the document has a key gittrack does not write
_KNOWN = frozenset(SHAPES)
_BATCH = 2_000  # parsed entries written at a time: an interrupted first build keeps its work

_COLUMNS = ("commit_id", "run_id", "present", *(f"f_{f}" for f in FIELDS),
            "info", "config", "summary")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS checkpoints (commit_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, "
    "present INTEGER NOT NULL, " + ", ".join(f"f_{f}" for f in FIELDS)
    + ", info TEXT NOT NULL, config TEXT NOT NULL, summary TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS checkpoints_by_name ON checkpoints (f_name)",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM checkpoints"
_INSERT = (f"INSERT OR REPLACE INTO checkpoints ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")
_ROW_INFO, _ROW_CONFIG, _ROW_SUMMARY = 3 + len(FIELDS), 4 + len(FIELDS), 5 + len(FIELDS)
_MISSING = object()


def cache_path(repo: Repository) -> Path:
    return gittrack_dir(repo) / "cache" / f"runs-v{VERSION}.sqlite"


class CachedRun:
    """One run's head as plain data, for filters (``runs.query``) and sorting: ``config``,
    ``summary`` and ``metadata`` (``run.yaml``) decoded on first use. ``state`` is as a reader
    shows it: ``crashed`` for a run whose last checkpoint says ``running`` while its writer
    here is dead (``view._as_known_here``)."""

    __slots__ = ("_config", "_dead", "_meta", "_parsed", "_row", "_summary", "commit", "run_id")

    def __init__(self, run_id: RunId, commit: CommitId, row: Sequence[Any] | None,
                 parsed: store.Checkpoint | None, dead: bool) -> None:
        self.run_id = run_id
        self.commit = commit
        self._row = row
        self._parsed = parsed
        self._dead = dead
        self._meta: Mapping[str, Any] | None = None
        self._config: dict[str, Any] | None = None
        self._summary: dict[str, Any] | None = None

    @property
    def created_at(self) -> str:
        """The sort key ``RunView.created_at`` is (``"None"`` when there is none)."""
        return str(self.metadata.get("created_at"))

    @property
    def name(self) -> Any:
        return self.metadata.get("name")

    @property
    def metadata(self) -> Mapping[str, Any]:
        if self._meta is None:
            if self._row is not None:
                self._meta = _Metadata(self._row, self._dead)
            else:
                assert self._parsed is not None
                self._meta = _known_state(dict(self._parsed.info.document), self._dead)
        return self._meta

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = (json.loads(self._row[_ROW_CONFIG]) if self._row is not None
                            else self._parsed.config if self._parsed is not None else {})
        return self._config

    @property
    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = (json.loads(self._row[_ROW_SUMMARY]) if self._row is not None
                             else self._parsed.summary if self._parsed is not None else {})
        return self._summary

    def checkpoint(self) -> store.Checkpoint | None:
        """The checkpoint, checked as a parse would check it; ``None`` when the cached entry
        fails (the caller reads the commit from git instead)."""
        if self._row is None:
            return self._parsed
        try:
            info = RunInfo.from_yaml(json.loads(self._row[_ROW_INFO]), self.commit, self.run_id)
            config, summary = self.config, self.summary
        except (FormatError, ValueError, TypeError, RecursionError):
            return None
        if not isinstance(config, dict) or not isinstance(summary, dict):
            return None
        return store.Checkpoint(commit=self.commit, info=info, config=config,
                                summary=summary, resume={})


class _Metadata(Mapping[str, Any]):
    """``run.yaml`` of a cached entry: the listing fields from their columns, the whole
    document decoded only when another key is asked for (or the keys are listed)."""

    __slots__ = ("_dead", "_doc", "_row")

    def __init__(self, row: Sequence[Any], dead: bool) -> None:
        self._row = row
        self._dead = dead
        self._doc: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        value = self._field(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._field(key)
        return default if value is _MISSING else value

    def __contains__(self, key: object) -> bool:
        return self._field(key) is not _MISSING

    def __iter__(self) -> Iterator[str]:
        return iter(self._document())

    def __len__(self) -> int:
        return len(self._document())

    def _field(self, key: object) -> Any:
        row = self._row
        if key in FIELDS:
            at = FIELDS.index(key)
            if not row[2] >> at & 1:
                return _MISSING
            value = row[3 + at]
            if key in _JSON_FIELDS:
                return None if value is None else json.loads(value)
            if key == "state" and self._dead and value == RunState.RUNNING:
                return RunState.CRASHED.value
            return value
        if key not in _KNOWN and not row[2] & _UNKNOWN:
            return _MISSING  # a key no document here has: nothing to decode
        return self._document().get(key, _MISSING)  # type: ignore[call-overload]

    def _document(self) -> dict[str, Any]:
        if self._doc is None:
            doc = json.loads(self._row[_ROW_INFO])
            self._doc = _known_state(doc if isinstance(doc, dict) else {}, self._dead)
        return self._doc


def _known_state(doc: dict[str, Any], dead: bool) -> dict[str, Any]:
    if dead and doc.get("state") == RunState.RUNNING:
        doc["state"] = RunState.CRASHED.value
    return doc


def cached_runs(
    repo: Repository, heads: Mapping[RunId, CommitId], on_error: ErrorHandler | None = None,
    *, name: str | None = None,
) -> list[CachedRun]:
    """A ``CachedRun`` for each head that can be read (with ``name``: each named so), in no
    particular order. Heads the cache lacks are parsed from git and cached; a run that cannot
    be read raises its ``GittrackError``, or, with ``on_error``, is reported and left out."""
    cache = _open(repo)
    try:
        known = cache.query("SELECT commit_id, run_id FROM checkpoints")
        usable = known is not None
        held = {commit: run_id for commit, run_id in known or ()}
        dead = {log.run_id for log in liveness.dead_logs(repo)}
        parsed: list[CachedRun] = []  # uncacheable, or not written: for this listing only
        pending: list[CachedRun] = []

        def flush() -> bool:
            written = cache.write(_INSERT, [_to_row(run) for run in pending])
            if not written:
                parsed.extend(pending)
            pending.clear()
            return written

        for run_id, commit in heads.items():
            if held.get(commit) == run_id:
                continue
            checkpoint = _parse(repo, run_id, commit, on_error)
            if checkpoint is None:
                continue
            run = CachedRun(run_id, commit, None, checkpoint, run_id in dead)
            (pending if usable and _cacheable(checkpoint) else parsed).append(run)
            if len(pending) >= _BATCH:
                usable = flush()
        if pending:
            usable = flush()
        if usable and (stale := held.keys() - set(heads.values())):
            cache.write("DELETE FROM checkpoints WHERE commit_id = ?", [(c,) for c in stale])
        if name is None:
            rows = cache.query(_SELECT)
        else:
            rows = cache.query(_SELECT + " WHERE f_name = ?", (name,))
            parsed = [run for run in parsed if run.name == name]
        if rows is None and usable:
            return _without_cache(repo, heads, on_error, name)
        found = [CachedRun(row[1], row[0], row, None, row[1] in dead)
                 for row in rows or () if heads.get(row[1]) == row[0]]
        return found + parsed
    finally:
        cache.close()


def _without_cache(
    repo: Repository, heads: Mapping[RunId, CommitId], on_error: ErrorHandler | None,
    name: str | None,
) -> list[CachedRun]:
    """Every head parsed from git (the cache could be written but not read back)."""
    dead = {log.run_id for log in liveness.dead_logs(repo)}
    found = []
    for run_id, commit in heads.items():
        checkpoint = _parse(repo, run_id, commit, on_error)
        if checkpoint is not None:
            run = CachedRun(run_id, commit, None, checkpoint, run_id in dead)
            if name is None or run.name == name:
                found.append(run)
    return found


def load_checkpoints(
    repo: Repository, heads: Mapping[RunId, CommitId],
    on_error: ErrorHandler | None = None,
) -> dict[RunId, store.Checkpoint]:
    """The checkpoint at each head, from the cache or from git (then cached), each checked.

    A run that cannot be read raises its ``GittrackError``, or, with ``on_error``, is
    reported to it and left out. (To only bring the cache up to date, ``refresh``.)
    """
    found: dict[RunId, store.Checkpoint] = {}
    for run in cached_runs(repo, heads, on_error):
        checkpoint = run.checkpoint()
        if checkpoint is None:
            checkpoint = _parse(repo, run.run_id, run.commit, on_error)
        if checkpoint is not None:
            found[run.run_id] = checkpoint
    return found


def refresh(repo: Repository, heads: Mapping[RunId, CommitId]) -> None:
    """Cache the heads the cache lacks (after a pull: the next listing is quick); a run that
    cannot be read is left for the listing to report."""
    cached_runs(repo, heads, lambda *_: None, name="")


def _open(repo: Repository) -> SqliteFile:
    path = cache_path(repo)
    with contextlib.suppress(OSError):  # the cache of gittrack before VERSION 2
        (path.parent / "checkpoints-v1.json").unlink(missing_ok=True)
    return SqliteFile(path, _SCHEMA)


def _parse(
    repo: Repository, run_id: RunId, commit: CommitId, on_error: ErrorHandler | None
) -> store.Checkpoint | None:
    try:
        with store.reading(run_id):
            return store.load_checkpoint(repo, commit, with_resume=False, run_id=run_id)
    except GittrackError as exc:
        if on_error is None:
            raise
        on_error(run_id, exc)
        return None


def _cacheable(checkpoint: store.Checkpoint) -> bool:
    """Whether JSON holds the checkpoint exactly."""
    return (_exact(dict(checkpoint.info.document)) and _exact(checkpoint.config)
            and _exact(checkpoint.summary))


def _to_row(run: CachedRun) -> tuple[Any, ...]:
    """The cache's row for a parsed, cacheable run."""
    checkpoint = run.checkpoint()
    assert checkpoint is not None
    doc = checkpoint.info.as_dict()
    present = _UNKNOWN if any(key not in _KNOWN for key in doc) else 0
    values: list[Any] = []
    for at, field in enumerate(FIELDS):
        value = doc.get(field)
        if field in doc:
            present |= 1 << at
        values.append(_dumps(value) if field in _JSON_FIELDS and value is not None else value)
    return (run.commit, run.run_id, present, *values, _dumps(doc),
            _dumps(checkpoint.config), _dumps(checkpoint.summary))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _exact(value: Any) -> bool:
    """Whether JSON gives ``value`` back unchanged (NaN and ±inf included: Python's json does)."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return True
    if kind is list:
        return all(_exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _exact(v) for k, v in value.items())
    return False
