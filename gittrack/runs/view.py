"""A finished or live run as stored: the read-only view that ``Api`` and the CLI hand out."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from gittrack.errors import FormatError, GittrackError, GittrackWarning, InvalidSettingError
from gittrack.formats.display import is_number
from gittrack.git.repo import Repository
from gittrack.runs import ids, index, layout, liveness, query, store
from gittrack.runs.info import RunFields, RunInfo, RunState
from gittrack.runs.lineage import run_artifacts
from gittrack.types import CommitId, RefName, RunId

if TYPE_CHECKING:
    import pyarrow as pa

    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.runs.code import SavedCode
    from gittrack.runs.media_index import MediaRow

HISTORY_FORMATS = ("pandas", "arrow", "polars")


class RunView(RunFields):
    """One run at its latest checkpoint: ``.config``, ``.summary``, ``.metadata``, ``.history()``.
    """

    def __init__(self, repo: Repository, run_id: RunId, commit: CommitId,
                 checkpoint: store.Checkpoint | None = None,
                 cached: index.CachedRun | None = None) -> None:
        self._repo = repo
        self.id = run_id
        self.commit = commit
        self._cp = checkpoint
        self._cached = cached  # checked on first read; read from git if it fails
        self._looked = False

    @property
    def _checkpoint(self) -> store.Checkpoint:
        if self._cp is None and self._cached is not None:
            self._cp = self._cached.checkpoint()
            self._cached = None
        if self._cp is None:
            with store.reading(self.id):
                self._cp = store.load_checkpoint(self._repo, self.commit, with_resume=False,
                                                 run_id=self.id)
        if not self._looked:
            self._looked = True
            self._cp = _as_known_here(self._repo, self.id, self._cp)
        return self._cp

    @property
    def ref(self) -> RefName:
        return layout.run_ref(self.id)

    @property
    def repo(self) -> Repository:
        """The repository the run is read from."""
        return self._repo

    @property
    def info(self) -> RunInfo:
        """``run.yaml``, typed (``.metadata`` is the same as a dict)."""
        return self._checkpoint.info

    @property
    def metadata(self) -> dict[str, Any]:
        """Everything in ``run.yaml``: name, state, times, host, code state, ..."""
        return self._checkpoint.info.as_dict()

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._checkpoint.config)

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self._checkpoint.summary)

    def readable_name(self) -> str | None:
        """``name``, or ``None`` for a run that cannot be read (damaged, or forged by a
        remote): deleting it by its ref must not depend on reading it."""
        try:
            return self.name
        except GittrackError:
            return None

    @property
    def state(self) -> RunState | str:
        """A ``RunState`` (a ``str``); ``"None"`` for a document without one, as before."""
        state = self.info.state
        return "None" if state is None else state

    @property
    def tags(self) -> list[str]:
        return list(self.info.tags)

    @property
    def created_at(self) -> str:
        return str(self.info.created_at)

    @property
    def duration(self) -> float | None:
        return self.info.duration

    def history_arrow(self, keys: Sequence[str] | None = None,
                      stream: str = "default") -> pa.Table:
        """The full history as a ``pyarrow.Table``: ``_step``, ``_timestamp``, ``_runtime``, ..."""
        directory = _stream_folder(stream)
        with store.reading(self.id):
            return store.history(self._repo, self.commit, keys, directory)

    def history_columns(self, columns: Sequence[str], stream: str = "default",
                        chunks: store.Chunks | None = None) -> pa.Table:
        """Every history row with only ``columns`` (``_step``, a key, ...; one never logged
        is all nulls), in that order: only those columns are decoded. ``chunks``: what
        ``chunk_files(stream)`` gave, for a reader that reads the run more than once."""
        directory = _stream_folder(stream)
        with store.reading(self.id):
            return store.history_columns(self._repo, self.commit, columns, directory, chunks)

    def history_fields(self, stream: str = "default",
                       chunks: store.Chunks | None = None) -> tuple[list[pa.Field], int]:
        """The history's columns (names and types, as ``history_arrow`` has them) and its
        row count, from the chunks' footers: nothing is decoded."""
        directory = _stream_folder(stream)
        with store.reading(self.id):
            return store.history_fields(self._repo, self.commit, directory, chunks)

    def chunk_files(self, stream: str = "default") -> store.Chunks:
        """The history's chunk files (path and bytes, in row order; ``store.ChunkFiles``), each
        read from git once, when first used, for ``history_fields`` and ``history_columns``
        both; with the chunks' overviews (``runs.overview``) for a chart of a long run."""
        directory = _stream_folder(stream)
        with store.reading(self.id):
            return store.chunk_files(self._repo, self.commit, directory)

    def history(self, keys: Sequence[str] | None = None, format: str = "pandas",
                stream: str = "default") -> Any:
        """The full, unsampled history: a pandas DataFrame (or ``format="arrow"|"polars"``).

        Rows that lack a key hold nulls (NaN in pandas). With ``keys``, only those columns and
        the rows where at least one of them has a value. ``stream="system"`` (W&B's name)
        gives the system metrics instead (``system()``).
        """
        if isinstance(keys, str):
            keys = [keys]
        return _convert(self.history_arrow(keys, stream), format)

    def system(self, keys: Sequence[str] | None = None, format: str = "pandas") -> Any:
        """The system metrics sampled while the run was live (docs/system.md), one row per
        sample: ``_step`` (the run's step then), ``_timestamp``, ``_runtime``, ``system.*``."""
        return self.history(keys, format, stream="system")

    def console(self) -> str:
        """What the run's process printed to stdout and stderr, as the terminal showed it (W&B's
        ``output.log``; a line redrawn with ``\\r`` as it was left); ``""`` if nothing was
        captured. Parts this machine lacks are fetched from the store (docs/console.md)."""
        from gittrack.runs.console import read_console

        with store.reading(self.id):
            return read_console(self._repo, self.commit)

    def scan_history(self, keys: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Each history row as a dict, without the keys that row lacks."""
        for row in self.history_arrow(keys).to_pylist():
            yield {k: v for k, v in row.items() if v is not None}

    def histograms(self, key: str | None = None, format: str = "pandas") -> Any:
        """Histogram rows: ``key``, ``_step``, ``_timestamp``, ``edges``, ``counts``."""
        with store.reading(self.id):
            rows = store.histograms(self._repo, self.commit, key)
        return _convert(rows, format)

    def media_rows(self, key: str | None = None) -> list[MediaRow]:
        """The rows of the run's media index (only ``key``'s, if given), in the order logged:
        what ``show --media`` and ``export`` read; nothing is downloaded."""
        from gittrack.runs.media_index import read_rows

        with store.reading(self.id):
            return read_rows(self._repo, self.commit, key)

    def media_keys(self) -> list[str]:
        """The keys media were logged under, in the order each was first logged."""
        return list(dict.fromkeys(row.key for row in self.media_rows()))

    def media(self, key: str) -> Iterator[tuple[int, Any]]:
        """``(step, value)`` of each media entry logged under ``key``, in step order (entries
        of one step in the order they were logged): a ``gittrack.Image``, ``Text``... decoded
        from its stored file, or a list of them for a list logged under the key. Files are
        fetched from the project's store on first read (verified, then cached)."""
        from gittrack.formats.media.base import Stored, decode
        from gittrack.formats.media.table import gather

        rows = self.media_rows(key)
        rows.sort(key=lambda r: (r.step, r.seq, r.item))
        vault = None
        index = 0
        while index < len(rows):
            first = rows[index]
            end = index + 1
            while end < len(rows) and (rows[end].step, rows[end].seq) == (first.step, first.seq):
                end += 1
            values = []
            for row in rows[index:end]:
                if vault is None:
                    from gittrack.storage.project import open_storage

                    vault = open_storage(self._repo)
                data = vault.cached(row.entry, what=f"media {row.key!r} of run {self.id}")
                stored = Stored(kind=row.type, format=row.format, width=row.width,
                                height=row.height, length=row.length, caption=row.caption,
                                meta=row.meta)
                values.append(decode(data.read_bytes(), stored))
            values = gather(values)  # a table's media cells back in their table
            listed = "_items" in first.meta or len(values) > 1
            yield first.step, (values if listed else values[0])
            index = end

    def used_artifacts(self) -> list[ArtifactVersion]:
        """The artifact versions this run used (``run.use_artifact``)."""
        return run_artifacts(self._repo, self, "used")

    def logged_artifacts(self) -> list[ArtifactVersion]:
        """The artifact versions this run logged (``run.log_artifact``)."""
        return run_artifacts(self._repo, self, "logged")

    def code(self) -> SavedCode | None:
        """The code saved with ``save_code`` (``.files``, ``.patch``, ``.source``,
        ``.packages``; docs/code.md), or ``None`` for a run that saved none. The commit,
        branch and dirty flag are ``metadata["code"]`` for every run."""
        from gittrack.runs.code import load

        fields = self.info.code or {}
        entrypoint = fields.get("entrypoint")
        with store.reading(self.id):
            return load(self._repo, self.commit,
                        entrypoint if isinstance(entrypoint, str) else None)

    def __repr__(self) -> str:
        return f"<gittrack.RunView {self.name!r} id={self.id} state={self.state}>"


def _stream_folder(stream: str) -> str:
    """The folder of W&B's ``history(stream=...)``: ``"default"`` or ``"system"``."""
    if stream == "default":
        return layout.HISTORY_DIR
    if stream == "system":
        return layout.SYSTEM_DIR
    raise InvalidSettingError(f"stream must be 'default' or 'system', got {stream!r}")


def _as_known_here(
    repo: Repository, run_id: RunId, cp: store.Checkpoint
) -> store.Checkpoint:
    """A run whose last checkpoint says ``running`` while its writer here is dead is
    ``crashed``, even before its log is folded (recovery failed, or was not tried: a
    read-only ``.git``); recovery names such a run in a warning."""
    if cp.info.state != RunState.RUNNING or liveness.dead_log(repo, run_id) is None:
        return cp
    return dataclasses.replace(cp, info=cp.info.replace(state=RunState.CRASHED))


def _convert(tbl: pa.Table, format: str) -> Any:
    if format == "arrow" or format == "pyarrow":
        return tbl
    if format == "pandas":
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise InvalidSettingError(
                "history() as a DataFrame needs pandas: pip install pandas, "
                "or ask for format='arrow'"
            ) from None
        return tbl.to_pandas()
    if format == "polars":
        try:
            import polars as pl
        except ImportError:
            raise InvalidSettingError(
                "format='polars' needs polars: pip install 'gittrack[polars]'"
            ) from None
        return pl.from_arrow(tbl)
    raise InvalidSettingError(f"format must be one of {', '.join(HISTORY_FORMATS)}, got {format!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class Listing:
    """What ``select`` found: the views asked for, and how many runs there are."""

    views: Sequence[RunView]
    matched: int
    """Runs that match the filter (``views`` holds at most ``limit`` of them)."""
    total: int
    """Runs listed before filtering (readable ones)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Order:
    """A sort of a listing by a value each run may have: the first of ``fields`` (filter
    fields, ``summary.loss``, ``config.loss``) that is neither missing nor ``None``, in
    ``sort_rank`` order; runs without one come last, and ties keep their order (newest
    first)."""

    fields: tuple[str, ...]
    descending: bool = False


def sort_rank(value: Any) -> tuple[int, Any] | None:
    """Where ``value`` goes in a sort: numbers (booleans as 0 and 1) by value, then texts;
    ``None`` for no place (no value, ``None``, a list or a mapping: last, either way)."""
    if value is None or value is query.MISSING or isinstance(value, (dict, list)):
        return None
    if is_number(value) or isinstance(value, bool):
        try:
            return (0, float(value))
        except OverflowError:  # an integer past a float's range
            return (0, math.inf if value > 0 else -math.inf)
    return (1, str(value))


def select(
    repo: Repository, filters: Mapping[str, Any] | None = None, *, limit: int | None = None,
    on_error: index.ErrorHandler | None = None, order: Order | None = None,
) -> Listing:
    """The runs matching ``filters`` (``runs.query``), newest first or in ``order``, at most
    ``limit``.

    Filters are evaluated on the cache's plain data (``index.CachedRun``): only the views
    handed out are made, and each is checked when first read. A run that cannot be read, or
    a ref whose name is not a valid run id, raises, or with ``on_error`` is reported to it and
    left out.
    """
    test = query.compile_filter(filters or {})  # a malformed filter fails before any run is read
    pairs = query.conjunction(filters or {})
    asked = [field for field, _ in pairs or ()] + list(order.fields if order else ())
    runs = _cached_runs(repo, on_error, asked)
    if pairs is None:
        matched = [run for run in runs if test(run)]
    else:  # one field of every run at a time (``index.values``), the fewest runs left first
        matched = runs
        for field, check in pairs:
            matched = [run for run, value in zip(matched, index.values(matched, field),
                                                     strict=True)
                       if check(value)]
    matched.sort(key=lambda run: run.sort_key, reverse=True)
    if order is not None:  # sorted on the cache's values: views only for the runs handed out
        matched = _ordered(matched, order)
    chosen = matched if limit is None else matched[:limit]
    return Listing(Runs(repo, chosen), len(matched), len(runs))


class Runs(Sequence[RunView]):
    """The runs a listing found, as a sequence of ``RunView`` made when first asked for
    (like W&B's ``Runs``: ``len()``, indexing, slicing and iteration, each view made once):
    a filter matching 25,000 of 100,000 runs makes no view that is not read. A slice is a
    list of views; compares equal to a list or tuple of the same views."""

    __slots__ = ("_made", "_repo", "_runs")

    def __init__(self, repo: Repository, runs: Sequence[index.CachedRun]) -> None:
        self._repo = repo
        self._runs = runs
        self._made: list[RunView | None] = [None] * len(runs)

    def __len__(self) -> int:
        return len(self._runs)

    @overload
    def __getitem__(self, at: int) -> RunView: ...

    @overload
    def __getitem__(self, at: slice) -> list[RunView]: ...

    def __getitem__(self, at: int | slice) -> RunView | list[RunView]:
        if isinstance(at, slice):
            return [self._view(i) for i in range(*at.indices(len(self._runs)))]
        if not isinstance(at, int) and hasattr(at, "__index__"):
            at = at.__index__()
        if not isinstance(at, int):
            raise TypeError(f"runs are indexed by integers or slices, not {type(at).__name__}")
        if at < 0:
            at += len(self._runs)
        if not 0 <= at < len(self._runs):
            raise IndexError(f"run index {at} out of range ({len(self._runs)} runs)")
        return self._view(at)

    def __iter__(self) -> Iterator[RunView]:
        return (self._view(at) for at in range(len(self._runs)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Runs, list, tuple)):
            return NotImplemented
        return len(self) == len(other) and all(
            a is b or a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable contents, as a list

    def __repr__(self) -> str:
        return f"<Runs of {len(self._runs)}>"

    def _view(self, at: int) -> RunView:
        view = self._made[at]
        if view is None:
            run = self._runs[at]
            view = self._made[at] = RunView(self._repo, run.run_id, run.commit, cached=run)
        return view


def _ordered(runs: list[index.CachedRun], order: Order) -> list[index.CachedRun]:
    values: list[Any] = [None] * len(runs)
    for field in order.fields:
        todo = [at for at, value in enumerate(values) if value is None]
        if not todo:
            break
        found = index.values([runs[at] for at in todo], field)
        for at, value in zip(todo, found, strict=True):
            values[at] = None if value is query.MISSING else value
    present: list[tuple[tuple[int, Any], index.CachedRun]] = []
    missing: list[index.CachedRun] = []
    for run, value in zip(runs, values, strict=True):
        rank = sort_rank(value)
        if rank is None:
            missing.append(run)
        else:
            present.append((rank, run))
    present.sort(key=lambda pair: pair[0], reverse=order.descending)
    return [run for _, run in present] + missing


def named(repo: Repository, heads: Mapping[RunId, CommitId], name: str) -> list[RunView]:
    """The runs of ``heads`` named ``name``, found by the cache's name column (unreadable
    runs are reported with ``warn_unreadable``)."""
    return [RunView(repo, run.run_id, run.commit, cached=run)
            for run in index.cached_runs(repo, heads, warn_unreadable, name=name)]


def _cached_runs(
    repo: Repository, on_error: index.ErrorHandler | None, prefetch: Sequence[str] = ()
) -> list[index.CachedRun]:
    heads, invalid = store.runs_and_invalid(repo)
    for run_id in invalid:  # a ref a remote forged under a name no run can have
        error = FormatError(ids.invalid_run_message(run_id))
        if on_error is None:
            raise error
        on_error(run_id, error)
    return index.cached_runs(repo, heads, on_error, prefetch=prefetch)


def checked(
    views: Sequence[RunView], on_error: index.ErrorHandler | None = None
) -> list[RunView]:
    """``views`` whose checkpoint can be read (read now): a cached entry that fails its
    checks is read from git, and a run that still cannot be read raises, or with
    ``on_error`` is reported and left out."""
    good = []
    for view in views:
        try:
            with store.reading(view.id):
                view.info  # noqa: B018 (reads and checks the checkpoint)
        except GittrackError as exc:
            if on_error is None:
                raise
            on_error(view.id, exc)
            continue
        good.append(view)
    return good


def all_runs(
    repo: Repository, on_error: index.ErrorHandler | None = None
) -> list[RunView]:
    """Every run, newest first, each checked (checkpoints come from the local cache in
    ``runs.index``).

    A run that cannot be read (any failure: ``store.reading``), or a ref whose name is not a
    valid run id, raises, or with ``on_error`` (e.g. ``warn_unreadable``) is reported to it and
    left out.
    """
    return checked(select(repo, on_error=on_error).views, on_error)


def warn_unreadable(run_id: RunId, error: GittrackError) -> None:
    """An ``on_error`` for ``all_runs``: a ``GittrackWarning`` naming the run, which is left
    out (the command line prints it as ``gittrack: warning: ...``)."""
    warnings.warn(f"skipping run {run_id}: {error}", GittrackWarning, stacklevel=2)
