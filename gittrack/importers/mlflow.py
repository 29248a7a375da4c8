"""Reading MLflow runs (a file store ``./mlruns``/``file:...``, a SQLite store
``sqlite:///mlflow.db``) as ``SourceRun``s, through MLflow's own client (the ``mlflow`` extra).

What becomes what (docs/importers.md): the experiment's name is the project; the run name
(``mlflow.runName``) the name; ``mlflow.note.content`` the notes; ``mlflow.parentRunId`` the
group; other tags not under ``mlflow.`` become tags ``key=value`` (``key`` alone when empty);
params the config, as the strings MLflow stores; each metric's full history the history (values
of several keys at one step share a row, MLflow's millisecond timestamps become seconds, the
row's time is the latest of its values'); the latest value of each metric the summary;
``FINISHED`` finished, any other status (``FAILED``, ``KILLED``, a ``RUNNING`` run whose
process is gone) failed. Deleted runs and experiments are not imported; artifacts are not either.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gittrack.errors import FormatError, NotFoundError, UsageError
from gittrack.importers.batch import Source
from gittrack.importers.common import Row, SourceRun

TOOL = "mlflow"
_SQLITE_MAGIC = b"SQLite format 3\x00"


def tracking_uri(uri: str) -> str:
    """``uri`` as MLflow's client takes it: a folder becomes a ``file://`` store, a SQLite file
    a ``sqlite:///`` store; a local store that does not exist is ``NotFoundError`` (MLflow
    would create an empty one)."""
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.is_file():
            raise NotFoundError(f"{uri}: no such SQLite file ({path})")
        return f"sqlite:///{path.resolve()}"
    if uri.startswith("file:"):
        path = Path(uri.removeprefix("file://") if uri.startswith("file://")
                    else uri.removeprefix("file:"))
        return _local(uri, path)
    if "://" in uri:
        return uri  # a tracking server: MLflow's client reaches it
    return _local(uri, Path(uri))


def _local(uri: str, path: Path) -> str:
    if path.is_file():
        with path.open("rb") as handle:
            if handle.read(16) == _SQLITE_MAGIC:
                return f"sqlite:///{path.resolve()}"
        raise NotFoundError(f"{uri}: not an MLflow store (a file that is not SQLite)")
    if not path.is_dir():
        raise NotFoundError(f"{uri}: no such MLflow store")
    if not any(path.glob("*/meta.yaml")):
        raise NotFoundError(f"{uri}: not an MLflow file store (no */meta.yaml)")
    return path.resolve().as_uri()


class Store:
    """An MLflow tracking store opened with MLflow's client."""

    def __init__(self, uri: str) -> None:
        self.uri = tracking_uri(uri)
        with _quiet():
            try:
                from mlflow.tracking import MlflowClient
            except ImportError:
                raise UsageError("reading MLflow runs needs the mlflow package: "
                                 "pip install 'gittrack[mlflow]'") from None
            try:
                self.client = MlflowClient(tracking_uri=self.uri)
            except Exception as exc:  # MlflowException and the like: one line naming it
                raise FormatError(f"{uri}: cannot open the MLflow store ({_line(exc)})"
                                  ) from None

    def runs(self, experiment: str | None = None) -> Iterator[tuple[str, Any]]:
        """``(run id, MLflow run)`` of every active run (of ``experiment`` when named)."""
        with _quiet():
            experiments = self._experiments(experiment)
            for exp in experiments:
                token = None
                while True:
                    page = self._call(lambda t=token, e=exp: self.client.search_runs(
                        [e.experiment_id], max_results=1000, page_token=t,
                        order_by=["attributes.start_time ASC"]))
                    for run in page:
                        yield run.info.run_id, (exp, run)
                    token = page.token
                    if not token:
                        break

    def _experiments(self, name: str | None) -> list[Any]:
        if name is not None:
            found = self._call(lambda: self.client.get_experiment_by_name(name))
            if found is None or found.lifecycle_stage != "active":
                raise NotFoundError(f"{self.uri}: no MLflow experiment named {name!r}")
            return [found]
        return list(self._call(lambda: self.client.search_experiments()))

    def read(self, item: Any) -> SourceRun:
        """One run of ``runs()`` as a ``SourceRun`` (``FormatError`` if it cannot be read)."""
        experiment, run = item
        with _quiet():
            history = {key: self._call(lambda k=key: self.client.get_metric_history(
                run.info.run_id, k)) for key in sorted(run.data.metrics)}
        return to_source(self.uri, experiment.name, run, history)

    def _call(self, fn: Any) -> Any:
        with _quiet():
            try:
                return fn()
            except Exception as exc:  # MLflow's errors (a damaged meta.yaml, ...): one line
                raise FormatError(f"{self.uri}: {_line(exc)}") from None


def to_source(uri: str, project: str, run: Any, history: dict[str, list[Any]]) -> SourceRun:
    """An MLflow run (``mlflow.entities.Run``) and its metric histories as a ``SourceRun``."""
    info, data = run.info, run.data
    tags = dict(data.tags)
    rows = _rows(history)
    end = info.end_time / 1000 if info.end_time else None
    if end is None and rows:
        end = max((r.timestamp for r in rows if r.timestamp is not None), default=None)
    return SourceRun(
        kind=TOOL, key=info.run_id, location=f"{uri}#{info.run_id}",
        name=info.run_name or tags.get("mlflow.runName") or None, project=project,
        group=tags.get("mlflow.parentRunId") or None,
        tags=tuple(f"{k}={v}" if v else k for k, v in sorted(tags.items())
                   if not k.startswith("mlflow.")),
        notes=tags.get("mlflow.note.content") or None,
        config=dict(data.params), summary={k: float(v) for k, v in data.metrics.items()}, rows=rows,
        exit_code=0 if info.status == "FINISHED" else 1,
        start_time=info.start_time / 1000 if info.start_time else None, end_time=end)


def _rows(history: dict[str, list[Any]]) -> tuple[Row, ...]:
    """Metric histories joined by step: one row per step, each key's value at that step (the
    latest by timestamp when MLflow has several)."""
    steps: dict[int, dict[str, tuple[int, Any]]] = {}
    for key, metrics in history.items():
        for m in metrics:
            row = steps.setdefault(int(m.step), {})
            if key not in row or m.timestamp >= row[key][0]:
                row[key] = (int(m.timestamp), float(m.value))
    return tuple(
        Row(step=step, timestamp=max(t for t, _ in row.values()) / 1000,
            values={k: v for k, (_, v) in row.items()})
        for step, row in sorted(steps.items()))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow logs at INFO (``Updating database tables``) to stderr, and its dependencies warn
    of their own deprecations (SQLAlchemy's ``noload``): neither while importing."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with _file_store_allowed(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _file_store_allowed() -> Iterator[None]:
    """MLflow 3 refuses to open a file store (``maintenance mode``) unless
    ``MLFLOW_ALLOW_FILE_STORE`` is set: reading one is what importing it means."""
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = previous


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def sources(uri: str, experiment: str | None = None) -> list[Source]:
    """The MLflow runs at ``uri`` (of ``experiment`` when named) for ``batch.import_all``;
    a store or experiment that is not there is ``NotFoundError`` naming it."""
    store = Store(uri)
    return [(f"{store.uri}#{run_id}", functools.partial(store.read, item))
            for run_id, item in store.runs(experiment)]
