"""Reading runs back from their refs: metadata, config, summary and the Parquet tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pygit2

from gittrack.errors import FormatError
from gittrack.formats import table, yamlio
from gittrack.git import objects, refs
from gittrack.runs import layout
from gittrack.types import CommitId, RefName, RunId

if TYPE_CHECKING:
    import pyarrow as pa


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """The YAML files of one checkpoint commit, parsed."""

    commit: CommitId
    info: dict[str, Any]
    config: dict[str, Any]
    summary: dict[str, Any]
    resume: dict[str, Any]


def list_runs(repo: pygit2.Repository) -> dict[RunId, CommitId]:
    found = refs.list_refs(repo, layout.RUNS_PREFIX)
    return {RunId(name[len(layout.RUNS_PREFIX):]): commit for name, commit in found.items()}


def head(repo: pygit2.Repository, run_id: RunId) -> CommitId | None:
    return refs.get_ref(repo, RefName(layout.run_ref(run_id)))


def _yaml(repo: pygit2.Repository, tree: pygit2.Tree, path: str, commit: str) -> Any:
    raw = objects.read_file(repo, tree, path)
    if raw is None:
        return None
    return yamlio.load(raw, what=f"{path} of commit {commit[:12]}")


def load_checkpoint(
    repo: pygit2.Repository, commit: CommitId, *, with_resume: bool = True
) -> Checkpoint:
    try:
        tree = objects.commit_tree(repo, commit)
    except (KeyError, ValueError, AssertionError):
        raise FormatError(f"commit {commit[:12]} is not a gittrack run checkpoint") from None
    info = _yaml(repo, tree, layout.RUN_YAML, commit)
    if not isinstance(info, dict) or "id" not in info:
        raise FormatError(f"commit {commit[:12]} has no readable {layout.RUN_YAML}")
    version = info.get("format")
    if not isinstance(version, int) or version > layout.FORMAT:
        raise FormatError(
            f"run {info.get('id')} uses format {version!r}; this gittrack reads format "
            f"{layout.FORMAT}: upgrade gittrack"
        )
    return Checkpoint(
        commit=commit,
        info=info,
        config=_yaml(repo, tree, layout.CONFIG_YAML, commit) or {},
        summary=_yaml(repo, tree, layout.SUMMARY_YAML, commit) or {},
        resume=(_yaml(repo, tree, layout.RESUME_YAML, commit) or {}) if with_resume else {},
    )


def resumes(repo: pygit2.Repository, head: CommitId) -> Iterator[tuple[CommitId, dict[str, Any]]]:
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


def _chunks(repo: pygit2.Repository, commit: CommitId, directory: str) -> list[bytes]:
    tree = objects.commit_tree(repo, commit)
    out = []
    for name in objects.list_files(repo, tree, directory):
        if layout.chunk_number(name) is not None:
            data = objects.read_file(repo, tree, f"{directory}/{name}")
            if data is not None:
                out.append(data)
    return out


def history(
    repo: pygit2.Repository, commit: CommitId, keys: Sequence[str] | None = None
) -> pa.Table:
    """The full, unsampled history: every row of every chunk, sparse keys as nulls.

    With ``keys``, only those columns (plus ``_step``, ``_timestamp``, ``_runtime``) and only
    rows where at least one of them has a value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    tables = [table.read_chunk(c, what=f"history chunk of {commit[:12]}")
              for c in _chunks(repo, commit, layout.HISTORY_DIR)]
    full = table.concat(tables)
    if full is None:
        full = pa.table({name: pa.array([], t) for name, t in
                         ((table.STEP, pa.int64()), (table.TIMESTAMP, pa.float64()),
                          (table.RUNTIME, pa.float64()))})
    if keys is None:
        return full
    wanted = [k for k in keys if k not in table.SYSTEM_COLUMNS]
    present = [k for k in wanted if k in full.column_names]
    columns = list(table.SYSTEM_COLUMNS) + present
    selected = full.select(columns)
    for name in wanted:
        if name not in present:
            selected = selected.append_column(name, pa.nulls(selected.num_rows, pa.float64()))
    if not wanted:
        return selected
    mask = None
    for name in wanted:
        valid = pc.is_valid(selected.column(name))
        mask = valid if mask is None else pc.or_(mask, valid)
    return selected.filter(mask)


def histograms(repo: pygit2.Repository, commit: CommitId, key: str | None = None) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    tables = [table.read_chunk(c, what=f"histogram chunk of {commit[:12]}")
              for c in _chunks(repo, commit, layout.HISTOGRAMS_DIR)]
    full = table.concat(tables, first=("key", table.STEP))
    if full is None:
        full = pa.table({"key": pa.array([], pa.string()), table.STEP: pa.array([], pa.int64()),
                         table.TIMESTAMP: pa.array([], pa.float64()),
                         "edges": pa.array([], pa.list_(pa.float64())),
                         "counts": pa.array([], pa.list_(pa.float64()))})
    if key is not None:
        full = full.filter(pc.equal(full.column("key"), key))
    return full
