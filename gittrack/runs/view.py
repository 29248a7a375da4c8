"""A finished or live run as stored: the read-only view that ``Api`` and the CLI hand out."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from gittrack.errors import FormatError, GittrackError, GittrackWarning, InvalidSettingError
from gittrack.git.repo import Repository
from gittrack.runs import ids, index, layout, liveness, store
from gittrack.runs.info import RunFields, RunInfo, RunState
from gittrack.runs.lineage import run_artifacts
from gittrack.types import CommitId, RefName, RunId

if TYPE_CHECKING:
    import pyarrow as pa

    from gittrack.artifacts.view import ArtifactVersion

HISTORY_FORMATS = ("pandas", "arrow", "polars")


class RunView(RunFields):
    """One run at its latest checkpoint: ``.config``, ``.summary``, ``.metadata``, ``.history()``.
    """

    def __init__(self, repo: Repository, run_id: RunId, commit: CommitId,
                 checkpoint: store.Checkpoint | None = None) -> None:
        self._repo = repo
        self.id = run_id
        self.commit = commit
        self._cp = checkpoint
        self._looked = False

    @property
    def _checkpoint(self) -> store.Checkpoint:
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

    def history_arrow(self, keys: Sequence[str] | None = None) -> pa.Table:
        """The full history as a ``pyarrow.Table``: ``_step``, ``_timestamp``, ``_runtime``, ..."""
        with store.reading(self.id):
            return store.history(self._repo, self.commit, keys)

    def history(self, keys: Sequence[str] | None = None, format: str = "pandas") -> Any:
        """The full, unsampled history: a pandas DataFrame (or ``format="arrow"|"polars"``).

        Rows that lack a key hold nulls (NaN in pandas). With ``keys``, only those columns and
        the rows where at least one of them has a value.
        """
        if isinstance(keys, str):
            keys = [keys]
        return _convert(self.history_arrow(keys), format)

    def scan_history(self, keys: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Each history row as a dict, without the keys that row lacks."""
        for row in self.history_arrow(keys).to_pylist():
            yield {k: v for k, v in row.items() if v is not None}

    def histograms(self, key: str | None = None, format: str = "pandas") -> Any:
        """Histogram rows: ``key``, ``_step``, ``_timestamp``, ``edges``, ``counts``."""
        with store.reading(self.id):
            rows = store.histograms(self._repo, self.commit, key)
        return _convert(rows, format)

    def used_artifacts(self) -> list[ArtifactVersion]:
        """The artifact versions this run used (``run.use_artifact``)."""
        return run_artifacts(self._repo, self, "used")

    def logged_artifacts(self) -> list[ArtifactVersion]:
        """The artifact versions this run logged (``run.log_artifact``)."""
        return run_artifacts(self._repo, self, "logged")

    def __repr__(self) -> str:
        return f"<gittrack.RunView {self.name!r} id={self.id} state={self.state}>"


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


def all_runs(
    repo: Repository, on_error: index.ErrorHandler | None = None
) -> list[RunView]:
    """Every run, newest first (checkpoints come from the local cache in ``runs.index``).

    A run that cannot be read (any failure: ``store.reading``), or a ref whose name is not a
    valid run id, raises, or with ``on_error`` (e.g. ``warn_unreadable``) is reported to it and
    left out.
    """
    heads, invalid = store.runs_and_invalid(repo)
    for run_id in invalid:  # a ref a remote forged under a name no run can have
        error = FormatError(ids.invalid_run_message(run_id))
        if on_error is None:
            raise error
        on_error(run_id, error)
    loaded = index.load_checkpoints(repo, heads, on_error)
    views = [RunView(repo, rid, heads[rid], cp) for rid, cp in loaded.items()]
    views.sort(key=lambda v: (v.created_at, v.id), reverse=True)
    return views


def warn_unreadable(run_id: RunId, error: GittrackError) -> None:
    """An ``on_error`` for ``all_runs``: a ``GittrackWarning`` naming the run, which is left
    out (the command line prints it as ``gittrack: warning: ...``)."""
    warnings.warn(f"skipping run {run_id}: {error}", GittrackWarning, stacklevel=2)
