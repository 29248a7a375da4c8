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
import gc
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gittrack.blobs.sqlitefile import SqliteFile
from gittrack.errors import FormatError, GittrackError
from gittrack.git.repo import Repository, gittrack_dir
from gittrack.runs import liveness, query, store
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
    # The listing columns again, narrow: a listing or a filter on them scans this index and
    # never the rows with their JSON documents (a full scan of 100,000 rows read 130 MB for
    # four small columns, twice the time). Made on first open of an older file of VERSION 2.
    "CREATE INDEX IF NOT EXISTS checkpoints_listing ON checkpoints (run_id, present, "
    + ", ".join(f"f_{f}" for f in FIELDS) + ")",
)
# What every listing reads: the rest is read a column at a time, when a filter asks for it.
_SELECT_COLUMNS = ("commit_id", "run_id", "present", "f_created_at")
_SELECT = f"SELECT {', '.join(_SELECT_COLUMNS)} FROM checkpoints"
_INSERT = (f"INSERT OR REPLACE INTO checkpoints ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")
_CREATED = FIELDS.index("created_at")
# A key that goes into a JSON path as it is: no dots (a dotted filter may mean nesting or a
# key holding a dot, which ``query.dig`` decides), no quotes or backslashes.
_SIMPLE_KEY = re.compile(r"\A[^.\"\\]+\Z")
_MISSING = query.MISSING


def cache_path(repo: Repository) -> Path:
    return gittrack_dir(repo) / "cache" / f"runs-v{VERSION}.sqlite"


class CachedRun:
    """One run's head as plain data, for filters (``runs.query``) and sorting: ``config``,
    ``summary`` and ``metadata`` (``run.yaml``) decoded on first use. ``state`` is as a reader
    shows it: ``crashed`` for a run whose last checkpoint says ``running`` while its writer
    here is dead (``view._as_known_here``)."""

    __slots__ = ("_config", "_dead", "_docs", "_meta", "_parsed", "_row", "_summary", "commit",
                 "run_id", "sort_key")

    def __init__(self, run_id: RunId, commit: CommitId, row: Sequence[Any] | None,
                 docs: _Documents | None, parsed: store.Checkpoint | None, dead: bool) -> None:
        self.run_id = run_id
        self.commit = commit
        self._row = row
        self._docs = docs
        self._parsed = parsed
        self._dead = dead
        self._meta: Mapping[str, Any] | None = None
        self._config: dict[str, Any] | None = None
        self._summary: dict[str, Any] | None = None
        if row is not None:
            created = row[3] if row[2] >> _CREATED & 1 else None
        else:
            created = parsed.info.document.get("created_at") if parsed is not None else None
        # ``(RunView.created_at, id)`` as one text (NUL sorts first): newest first is this,
        # descending, and comparing texts is twice as quick as comparing tuples
        self.sort_key = f"{created}\0{run_id}"

    @property
    def name(self) -> Any:
        return self.metadata.get("name")

    @property
    def unknown(self) -> bool:
        """Whether ``run.yaml`` may have keys gittrack does not write (a dotted one)."""
        return self._row is None or bool(self._row[2] & _UNKNOWN)

    @property
    def metadata(self) -> Mapping[str, Any]:
        if self._meta is None:
            if self._row is not None:
                self._meta = _Metadata(self._row, self._dead, self._load, self._value)
            else:
                assert self._parsed is not None
                self._meta = _known_state(dict(self._parsed.info.document), self._dead)
        return self._meta

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            found = self._load("config") if self._parsed is None else self._parsed.config
            self._config = found if isinstance(found, dict) else {}
        return self._config

    @property
    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            found = self._load("summary") if self._parsed is None else self._parsed.summary
            self._summary = found if isinstance(found, dict) else {}
        return self._summary

    def _load(self, column: str) -> Any:
        text = self._value(column)
        return None if text is None else json.loads(text)

    def _value(self, column: str) -> Any:
        return self._docs.get(column, self.commit) if self._docs is not None else None

    def checkpoint(self) -> store.Checkpoint | None:
        """The checkpoint, checked as a parse would check it; ``None`` when the cached entry
        fails, or is gone (the caller reads the commit from git instead)."""
        if self._parsed is not None:
            return self._parsed
        try:
            info = RunInfo.from_yaml(self._load("info"), self.commit, self.run_id)
            config, summary = self._load("config"), self._load("summary")
        except (FormatError, ValueError, TypeError, RecursionError):
            return None
        if not isinstance(config, dict) or not isinstance(summary, dict):
            return None
        return store.Checkpoint(commit=self.commit, info=info, config=config,
                                summary=summary, resume={})


class _Documents:
    """The cache's columns beyond ``_SELECT``'s (the listing fields, the JSON documents
    ``info``, ``config``, ``summary``), read when a filter or a view asks: one value at a time
    for a few views, a whole column at once for a filter that reads every run's."""

    _FEW = 100  # lookups of one column before the rest of it is read at once

    def __init__(self, cache: SqliteFile) -> None:
        self._cache = cache  # stays open while its runs are in use
        self._columns: dict[str, dict[str, Any]] = {}
        self._asked: dict[str, int] = {}
        self.at: dict[tuple[str, str], int] = {}
        """(column, key) → where each listed row holds it (``cached_runs(prefetch=)``): a
        whole column (key empty) or the JSON text of one key of its documents."""

    def keep(self, wanted: Sequence[tuple[str, str]]) -> None:
        """The rows handed out hold ``wanted`` (``_wanted``) after ``_SELECT``'s columns: a
        filter reads them there (``_tops``, ``_members``), not from the file again."""
        for at, found in enumerate(wanted, start=len(_SELECT_COLUMNS)):
            self.at[found] = at

    def column(self, column: str) -> dict[str, Any]:
        """The whole ``column``, by commit."""
        assert column in _COLUMNS  # the name goes into the statement
        whole = self._columns.get(column)
        if whole is None:
            rows = self._cache.query(f"SELECT commit_id, {column} FROM checkpoints")
            whole = self._columns[column] = dict(rows or ())
        return whole

    def members(self, column: str, key: str) -> dict[str, Any] | None:
        """``key`` of the JSON object in ``column``, for every entry, by commit (``MISSING``
        where the document has no such key or is no object): sqlite's JSON functions pick it
        out in C, so a filter on ``config.lr`` decodes no document in Python. ``None`` when
        sqlite cannot (a document JSON does not allow, such as a NaN Python's json wrote):
        decode the documents then.

        Numbers are parsed here from their JSON text (as ``json.loads`` does), not by sqlite,
        whose conversions may round differently."""
        assert column in _COLUMNS and _SIMPLE_KEY.match(key)  # both go into the statement
        # One JSON function: ``->`` gives the value's JSON text (NULL when there is none), and
        # the few distinct texts (a branch, a learning rate) are decoded once each.
        rows = self._cache.query(f"SELECT commit_id, {_member(column)} FROM checkpoints",
                                 (_path(key),))
        if rows is None:
            return None
        decode = _decoder()
        return {commit: decode(text) for commit, text in rows}

    def get(self, column: str, commit: str) -> Any:
        assert column in _COLUMNS  # the name goes into the statement
        whole = self._columns.get(column)
        if whole is None:
            asked = self._asked[column] = self._asked.get(column, 0) + 1
            if asked <= self._FEW:
                rows = self._cache.query(
                    f"SELECT {column} FROM checkpoints WHERE commit_id = ?", (commit,))
                return rows[0][0] if rows else None
            rows = self._cache.query(f"SELECT commit_id, {column} FROM checkpoints")
            whole = self._columns[column] = dict(rows or ())
        return whole.get(commit)


def _decoder() -> Callable[[str | None], Any]:
    """The value of a key's JSON text as ``->`` gives it (``None``: ``MISSING``); the few
    distinct texts of a listing (a branch, a learning rate) are decoded once each, a list or
    a mapping once per run (its own copy)."""
    decoded: dict[str, Any] = {}
    loads = json.loads

    def decode(text: str | None) -> Any:
        if text is None:
            return _MISSING
        if text[0] in "[{":
            return loads(text)
        value = decoded.get(text, _MISSING)
        if value is _MISSING:
            value = decoded[text] = loads(text)
        return value

    return decode


def _member(column: str) -> str:
    """SQL of ``key`` (a ``?`` bound to ``_path(key)``) of the JSON object in ``column``."""
    return f"{column} -> ?"


def _path(key: str) -> str:
    return f'$."{key}"'


def _wanted(fields: Sequence[str]) -> list[tuple[str, str]]:
    """What ``values`` of each of ``fields`` reads from the cache, as ``(column, key)``
    (``key`` empty: the whole column; else one member of its JSON objects), for the listing
    to read along with its rows (``cached_runs(prefetch=)``): one scan of the cache instead
    of one more per filter."""
    wanted: list[tuple[str, str]] = []
    for field in fields:
        head, _, rest = field.partition(".")
        found: tuple[str, str] | None = None
        if head in ("config", "summary", "summary_metrics") and rest:
            if _SIMPLE_KEY.match(rest):
                found = ("config" if head == "config" else "summary", rest)
        elif head == "metadata" and rest:
            top, _, deeper = rest.partition(".")
            if top in _JSON_FIELDS and deeper and _SIMPLE_KEY.match(deeper):
                found = (f"f_{top}", deeper)
            elif top in FIELDS:
                found = (f"f_{top}", "")
        elif field in FIELDS:
            found = (f"f_{field}", "")
        if found is not None and found not in wanted:
            wanted.append(found)
    return wanted


class _Metadata(Mapping[str, Any]):
    """``run.yaml`` of a cached entry: the listing fields from their columns, the whole
    document decoded only when another key is asked for (or the keys are listed)."""

    __slots__ = ("_column", "_dead", "_doc", "_load", "_row")

    def __init__(self, row: Sequence[Any], dead: bool, load: Callable[[str], Any],
                 column: Callable[[str], Any]) -> None:
        self._row = row
        self._dead = dead
        self._load = load
        self._column = column
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
            value = self._column(f"f_{key}")
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
            doc = self._load("info")
            self._doc = _known_state(doc if isinstance(doc, dict) else {}, self._dead)
        return self._doc


def values(runs: Sequence[CachedRun], field: str) -> list[Any]:
    """``query.lookup(run, field)`` of each run, read a column at a time: a filter on the
    state of 100,000 runs reads one column and decodes no document. The values are for
    reading only: runs with the same tags may share one list."""
    head, _, rest = field.partition(".")
    if head in ("config", "summary", "summary_metrics") and rest:
        source = "config" if head == "config" else "summary"
        found = _members(runs, source, rest)
        if found is not None:
            return found
        return [query.dig(doc, rest) for doc in _documents(runs, source)]
    if head == "metadata" and rest:
        top, _, deeper = rest.partition(".")
        if top in _JSON_FIELDS and not any(run.unknown for run in runs) \
                and (found := _members(runs, f"f_{top}", deeper)) is not None:
            # present flags first: a run.yaml without the field has no value under it
            at = FIELDS.index(top)
            return [value if run._row is None or run._row[2] >> at & 1 else _MISSING
                    for run, value in zip(runs, found, strict=True)]
        if top in FIELDS:
            tops = _tops(runs, top)
            if not deeper:
                return tops
            # "metadata.code.branch": run.yaml's key "code.branch" if it has one, else code's
            return [query.lookup(run, field) if run.unknown else
                    query.MISSING if value is query.MISSING else query.dig(value, deeper)
                    for run, value in zip(runs, tops, strict=True)]
    if field in FIELDS:
        return _tops(runs, field)
    return [query.lookup(run, field) for run in runs]


def _tops(runs: Sequence[CachedRun], field: str) -> list[Any]:
    """``run.metadata.get(field, MISSING)`` of each run, ``field`` one of ``FIELDS``."""
    at = FIELDS.index(field)
    column: dict[str, Any] = {}
    kept: int | None = None  # where the listed rows hold the column (read with them)
    for run in runs:
        if run._docs is not None:
            kept = run._docs.at.get((f"f_{field}", ""))
            if kept is None:
                column = run._docs.column(f"f_{field}")
            break
    decode = field in _JSON_FIELDS
    decoded: dict[str, Any] = {}  # tags: a few distinct lists, each decoded once (read only)
    found = []
    for run in runs:
        row = run._row
        if row is None:
            found.append(run.metadata.get(field, query.MISSING))
        elif not row[2] >> at & 1:
            found.append(query.MISSING)
        else:
            value = column.get(run.commit) if kept is None else row[kept]
            if decode and value is not None:
                text = value
                value = decoded.get(text, query.MISSING)
                if value is query.MISSING:
                    value = decoded[text] = json.loads(text)
            elif run._dead and field == "state" and value == RunState.RUNNING:
                value = RunState.CRASHED.value
            found.append(value)
    return found


def _members(runs: Sequence[CachedRun], column: str, key: str) -> list[Any] | None:
    """``query.dig(document, key)`` of each run's document in ``column`` when ``key`` is one
    plain key (``_Documents.members``); ``None`` when it must be done by decoding them."""
    if not _SIMPLE_KEY.match(key):
        return None
    source = column.removeprefix("f_")

    def parsed(run: CachedRun) -> Any:  # a run parsed now, not read from the cache
        return query.dig(getattr(run, source) if source in ("config", "summary")
                         else run.metadata.get(source), key)

    found: dict[str, Any] | None = {}
    for run in runs:
        if run._docs is not None:
            kept = run._docs.at.get((column, key))
            if kept is not None:  # read with the listing's rows
                decode = _decoder()
                return [decode(run._row[kept]) if run._row is not None else parsed(run)
                        for run in runs]
            found = run._docs.members(column, key)
            break
    if found is None:
        return None
    return [found.get(run.commit, _MISSING) if run._row is not None else parsed(run)
            for run in runs]


def _documents(runs: Sequence[CachedRun], source: str) -> list[dict[str, Any]]:
    """Each run's ``config`` or ``summary``."""
    column: dict[str, Any] = {}
    for run in runs:
        if run._docs is not None:
            column = run._docs.column(source)
            break
    found = []
    for run in runs:
        if run._row is None:
            found.append(getattr(run, source))
        else:
            text = column.get(run.commit)
            doc = json.loads(text) if text is not None else None
            found.append(doc if isinstance(doc, dict) else {})
    return found


def _known_state(doc: dict[str, Any], dead: bool) -> dict[str, Any]:
    if dead and doc.get("state") == RunState.RUNNING:
        doc["state"] = RunState.CRASHED.value
    return doc


def cached_runs(
    repo: Repository, heads: Mapping[RunId, CommitId], on_error: ErrorHandler | None = None,
    *, name: str | None = None, prefetch: Sequence[str] = (),
) -> list[CachedRun]:
    """A ``CachedRun`` for each head that can be read (with ``name``: each named so), in no
    particular order. Heads the cache lacks are parsed from git and cached; a run that cannot
    be read raises its ``GittrackError``, or, with ``on_error``, is reported and left out.
    ``prefetch``: fields ``values`` will be asked for, read in the same scan of the cache."""
    with paused_gc():
        return _cached_runs(repo, heads, on_error, name, prefetch)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector paused: 100,000 small objects made in a row set it off again and
    again (a third of a listing's time), and none of them is garbage yet."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _cached_runs(
    repo: Repository, heads: Mapping[RunId, CommitId], on_error: ErrorHandler | None,
    name: str | None, prefetch: Sequence[str],
) -> list[CachedRun]:
    cache = _open(repo)
    docs = _Documents(cache)
    if name is None:
        wanted = _wanted(prefetch)
        rows = None
        if wanted:  # None when sqlite cannot (a NaN in a document): each is read when asked
            rows = cache.query(
                f"SELECT {', '.join(_SELECT_COLUMNS)}, "
                + ", ".join(_member(column) if key else column for column, key in wanted)
                + " FROM checkpoints", [_path(key) for _, key in wanted if key])
            if rows is not None:
                docs.keep(wanted)
        if rows is None:
            rows = cache.query(_SELECT)
        held = {row[0]: row[1] for row in rows} if rows is not None else None
    else:
        known = cache.query("SELECT commit_id, run_id FROM checkpoints")
        held = dict(known) if known is not None else None
    usable = held is not None
    held = held or {}
    dead = {log.run_id for log in liveness.dead_logs(repo)}
    parsed: list[CachedRun] = []  # parsed now: kept in memory for this listing
    pending: list[CachedRun] = []
    matched = 0  # heads the cache holds
    for run_id, commit in heads.items():
        if held.get(commit) == run_id:
            matched += 1
            continue
        checkpoint = _parse(repo, run_id, commit, on_error)
        if checkpoint is None:
            continue
        run = CachedRun(run_id, commit, None, None, checkpoint, run_id in dead)
        parsed.append(run)
        if usable and _cacheable(checkpoint):
            pending.append(run)
            if len(pending) >= _BATCH:
                usable = cache.write(_INSERT, [_to_row(run) for run in pending])
                pending = []
    if usable and pending:
        usable = cache.write(_INSERT, [_to_row(run) for run in pending])
    if usable and matched < len(held):  # a purged or deleted run's config must not stay
        _erase(cache, held.keys() - set(heads.values()))  # readable
    if name is not None:
        rows = cache.query(_SELECT + " WHERE f_name = ?", (name,)) if held else []
        parsed = [run for run in parsed if run.name == name]
    fresh = {run.commit for run in parsed}  # a name's rows are read after they are written
    found = [CachedRun(row[1], row[0], row, docs, None, row[1] in dead)
             for row in rows or () if heads.get(row[1]) == row[0] and row[0] not in fresh]
    return found + parsed


def forget(repo: Repository, heads: Mapping[RunId, CommitId]) -> None:
    """Erase the entries of commits no longer a head (after a delete, a purge, a pull that
    deleted runs: a deleted run's config must not stay readable here); parses nothing."""
    cache = _open(repo)
    known = cache.query("SELECT commit_id FROM checkpoints")
    if known is not None:
        _erase(cache, {row[0] for row in known} - set(heads.values()))


def _erase(cache: SqliteFile, stale: set[str]) -> bool:
    """Erased, not only deleted (``secure_delete``, the journal truncated)."""
    if not stale:
        return True
    return cache.write("DELETE FROM checkpoints WHERE commit_id = ?", [(c,) for c in stale],
                       erase=True)


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
