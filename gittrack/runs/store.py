"""Reading runs back from their refs: metadata, config, summary and the Parquet tables."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from gittrack.errors import FormatError, GittrackError
from gittrack.formats import table, yamlio
from gittrack.git import namespace, objects, refs
from gittrack.git.repo import Repository
from gittrack.runs import compaction, ids, layout, overview
from gittrack.runs.info import RunInfo, check_format
from gittrack.types import CommitId, RefName, RunId

if TYPE_CHECKING:
    import pyarrow as pa


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """The YAML files of one checkpoint commit, parsed."""

    commit: CommitId
    info: RunInfo
    config: dict[str, Any]
    summary: dict[str, Any]
    resume: dict[str, Any]


@contextlib.contextmanager
def reading(run_id: RunId) -> Iterator[None]:
    """Any failure to read one run, as a ``GittrackError`` naming it.

    A run comes from a remote or a damaged disk, and can break a reader in ways no one listed
    (a missing object, a forged type, a Parquet file that crashes the decoder): the run is bad,
    not gittrack, and callers that list runs report it and go on with the others.
    """
    try:
        yield
    except GittrackError:
        raise
    except Exception as exc:
        raise FormatError(f"cannot read run {run_id}: {type(exc).__name__}: {exc}") from exc


def list_runs(repo: Repository) -> dict[RunId, CommitId]:
    """Every run, by id: the refs under ``runs/`` whose name is a valid run id
    (``ids.is_valid_run_id``); ``invalid_runs`` has the others."""
    return runs_and_invalid(repo)[0]


def invalid_runs(repo: Repository) -> dict[RunId, CommitId]:
    """Refs under ``runs/`` whose name is not a valid run id (a remote forged them): never
    listed or read as runs, only deleted by their exact name (``gittrack rm``)."""
    return runs_and_invalid(repo)[1]


def runs_and_invalid(
    repo: Repository,
) -> tuple[dict[RunId, CommitId], dict[RunId, CommitId]]:
    """``list_runs`` and ``invalid_runs`` from one listing of the refs."""
    valid: dict[str, CommitId] = {}
    invalid: dict[str, CommitId] = {}
    cut, is_valid = len(namespace.RUNS), ids.is_valid_run_id  # 100,000 refs: kept in locals
    for name, commit in refs.list_refs(repo, namespace.RUNS).items():
        run_id = name[cut:]
        if is_valid(run_id):
            valid[run_id] = commit
        else:
            invalid[run_id] = commit
    return cast("dict[RunId, CommitId]", valid), cast("dict[RunId, CommitId]", invalid)


def head(repo: Repository, run_id: RunId) -> CommitId | None:
    return refs.get_ref(repo, RefName(layout.run_ref(run_id)))


def _yaml(repo: Repository, tree: objects.Tree, path: str, commit: str) -> Any:
    raw = objects.read_file(repo, tree, path)
    if raw is None:
        return None
    return yamlio.load(raw, what=f"{path} of commit {commit[:12]}")


def _mapping(repo: Repository, tree: objects.Tree, path: str, commit: str) -> dict[str, Any]:
    data = _yaml(repo, tree, path, commit)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FormatError(f"{path} of commit {commit[:12]} is a {type(data).__name__}, "
                          "not a mapping")
    return data


def load_checkpoint(
    repo: Repository, commit: CommitId, *, with_resume: bool = True,
    run_id: RunId | None = None,
) -> Checkpoint:
    """The checkpoint at ``commit``; ``FormatError`` (or ``RepositoryError`` for a missing
    object) naming the commit and the file when it cannot be read. With ``run_id``, the id
    ``run.yaml`` gives must be that of the ref the commit came from."""
    tree = objects.commit_tree(repo, commit)
    doc = _mapping(repo, tree, layout.RUN_YAML, commit)
    if "id" not in doc:
        raise FormatError(f"commit {commit[:12]} has no readable {layout.RUN_YAML}")
    return Checkpoint(
        commit=commit,
        info=RunInfo.from_yaml(doc, commit, run_id),
        config=_mapping(repo, tree, layout.CONFIG_YAML, commit),
        summary=_mapping(repo, tree, layout.SUMMARY_YAML, commit),
        resume=_mapping(repo, tree, layout.RESUME_YAML, commit) if with_resume else {},
    )


def resumes(repo: Repository, head: CommitId) -> Iterator[tuple[CommitId, dict[str, Any]]]:
    """``resume.yaml`` of each checkpoint of a run, newest first (first parents)."""
    commit: CommitId | None = head
    while commit is not None:
        try:
            tree = objects.commit_tree(repo, commit)
            parent = objects.first_parent(repo, commit)
        except (KeyError, ValueError, AssertionError):
            raise FormatError(f"commit {commit[:12]} is not a gittrack run checkpoint") from None
        resume = _yaml(repo, tree, layout.RESUME_YAML, commit)
        yield commit, resume if isinstance(resume, dict) else {}
        commit = parent


class ChunkFiles:
    """The chunks of one folder of a run commit, in row order (``list_chunks``), as
    ``(path, bytes)`` when iterated: listed from the tree at once, each file read from git on
    first use and kept, so that a reader that reads the run more than once (the web UI: its
    keys, then a chart, then a zoom) reads each blob once, and only the blobs it needs.
    ``overview(i)``: chunk ``i``'s overview, when it has one (``runs.overview``), read
    likewise. Refuses a run whose format this gittrack does not read (a later one may place
    its rows elsewhere)."""

    def __init__(self, repo: Repository, commit: CommitId, directory: str) -> None:
        tree = objects.commit_tree(repo, commit)
        doc = _yaml(repo, tree, layout.RUN_YAML, commit)
        if isinstance(doc, dict):
            check_format(doc)
        self.repo, self.commit, self.directory, self._tree = repo, commit, directory, tree
        self.paths = [c.path(directory) for c in compaction.list_chunks(repo, tree, directory)]
        self._data: dict[int, bytes] = {}
        self._overviews: dict[int, overview.Overview | None] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        for at, path in enumerate(self.paths):
            yield path, self.data(at)

    @property
    def loaded(self) -> list[int]:
        """The chunks whose bytes were read so far (not their overviews)."""
        return sorted(self._data)

    def what(self, at: int) -> str:
        """Chunk ``at`` as errors name it."""
        return f"{self.paths[at]} of commit {self.commit[:12]}"

    def data(self, at: int) -> bytes:
        """The Parquet bytes of chunk ``at``."""
        found = self._data.get(at)
        if found is None:
            found = objects.read_file(self.repo, self._tree, self.paths[at])
            if found is None:  # listed as a file of this tree: only a damaged object
                raise FormatError(f"cannot read {self.what(at)}")
            self._data[at] = found
        return found

    def read(self, at: int, columns: Sequence[str] | None = None) -> pa.Table:
        """Chunk ``at``, with only those of ``columns`` it has (the others not decoded)."""
        return table.read_chunk(self.data(at), what=self.what(at), columns=columns)

    def overview(self, at: int) -> overview.Overview | None:
        """The overview of chunk ``at``, or None when it has none."""
        if at not in self._overviews:
            found = None
            if self.directory in layout.OVERVIEW_DIRS:
                path = layout.overview_path(self.paths[at])
                data = objects.read_file(self.repo, self._tree, path)
                if data is not None:
                    found = overview.parse(data, what=f"{path} of commit {self.commit[:12]}")
            self._overviews[at] = found
        return self._overviews[at]

    def footer(self, at: int) -> tuple[pa.Schema, int]:
        """Chunk ``at``'s columns and rows, from its footer, or from its overview's when it
        has one (the same columns; the rows its facts give): the chunk itself is not read."""
        summary = self.overview(at)
        if summary is not None:
            schema, _ = table.chunk_schema(summary.data, what=self.what(at))
            return schema, summary.rows
        return table.chunk_schema(self.data(at), what=self.what(at))


def chunk_files(repo: Repository, commit: CommitId, directory: str) -> ChunkFiles:
    """Each chunk of ``directory`` (``layout.CHUNK_DIRS``), in row order, read as it is used."""
    return ChunkFiles(repo, commit, directory)


Chunks = ChunkFiles
"""A history's chunk files as ``chunk_files`` gives them, for a reader that reads them twice."""


def _read_chunks(repo: Repository, commit: CommitId, directory: str,
                 columns: Sequence[str] | None = None,
                 chunks: Chunks | None = None) -> list[pa.Table]:
    if chunks is None:
        chunks = ChunkFiles(repo, commit, directory)
    return [chunks.read(at, columns) for at in range(len(chunks))]


def history_fields(
    repo: Repository, commit: CommitId, directory: str = layout.HISTORY_DIR,
    chunks: Chunks | None = None,
) -> tuple[list[pa.Field], int]:
    """The columns ``history`` has (names and types, in its order) and its row count, from
    the chunks' footers alone (or their overviews' for the chunks that have one): what a
    reader needs to list a run's keys without decoding its history (10,000,000 steps).
    ``chunks``: ``chunk_files`` of that commit, read already."""
    schemas, rows = [], 0
    if chunks is None:
        chunks = ChunkFiles(repo, commit, directory)
    for at in range(len(chunks)):
        schema, count = chunks.footer(at)
        schemas.append(schema)
        rows += count
    if not schemas:
        return _empty_history().schema, 0
    return table.union_schema(schemas), rows


def history_columns(
    repo: Repository, commit: CommitId, columns: Sequence[str],
    directory: str = layout.HISTORY_DIR, chunks: Chunks | None = None,
) -> pa.Table:
    """Every row of the history, with only ``columns`` (each once, in that order; a column no
    chunk has is all nulls, as float64): only they are decoded (Parquet column projection).
    ``chunks``: ``chunk_files`` of that commit, read already."""
    import pyarrow as pa

    columns = list(dict.fromkeys(columns))
    full = table.concat(_read_chunks(repo, commit, directory, columns, chunks))
    if full is None:
        full = _empty_history()
    stored = set(full.column_names)
    for name in columns:
        if name not in stored:
            full = full.append_column(name, pa.nulls(full.num_rows, pa.float64()))
    return full.select(columns)


def _empty_history() -> pa.Table:
    import pyarrow as pa

    return pa.table({name: pa.array([], t) for name, t in
                     ((table.STEP, pa.int64()), (table.TIMESTAMP, pa.float64()),
                      (table.RUNTIME, pa.float64()))})


def history(
    repo: Repository, commit: CommitId, keys: Sequence[str] | None = None,
    directory: str = layout.HISTORY_DIR,
) -> pa.Table:
    """The full, unsampled history: every row of every chunk, sparse keys as nulls.

    With ``keys``, only those columns (plus ``_step``, ``_timestamp``, ``_runtime``) and only
    rows where at least one of them has a value; only those columns are decoded (Parquet
    column projection). ``directory`` ``system/`` reads the system metrics, stored in the
    same shape.
    """
    import pyarrow.compute as pc

    if keys is None:
        full = table.concat(_read_chunks(repo, commit, directory))
        return _empty_history() if full is None else full
    wanted = list(dict.fromkeys(k for k in keys if k not in table.SYSTEM_COLUMNS))  # once each
    selected = history_columns(repo, commit, [*table.SYSTEM_COLUMNS, *wanted], directory)
    if not wanted:
        return selected
    mask = None
    for name in wanted:
        valid = pc.is_valid(selected.column(name))
        mask = valid if mask is None else pc.or_(mask, valid)
    return selected.filter(mask)


def histograms(repo: Repository, commit: CommitId, key: str | None = None) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    full = table.concat(_read_chunks(repo, commit, layout.HISTOGRAMS_DIR),
                        first=("key", table.STEP))
    if full is None:
        full = pa.table({"key": pa.array([], pa.string()), table.STEP: pa.array([], pa.int64()),
                         table.TIMESTAMP: pa.array([], pa.float64()),
                         "edges": pa.array([], pa.list_(pa.float64())),
                         "counts": pa.array([], pa.list_(pa.float64()))})
    if key is not None:
        full = full.filter(pc.equal(full.column("key"), key))
    return full
