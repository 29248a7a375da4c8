"""Reading MLflow runs (a file store ``./mlruns``/``file:...``, a SQLite store
``sqlite:///mlflow.db``) as ``SourceRun``s, through MLflow's own client (the ``mlflow`` extra).

What becomes what (docs/importers.md): the experiment's name is the project; the run name
(``mlflow.runName``) the name; ``mlflow.note.content`` the notes; ``mlflow.parentRunId`` the
group; other tags not under ``mlflow.`` become tags ``key=value`` (``key`` alone when empty);
params the config, as the strings MLflow stores; each metric's full history the history (values
of several keys at one step share a row, MLflow's millisecond timestamps become seconds, the
row's time is the latest of its values'); the latest value of each metric the summary;
``FINISHED`` finished, any other status (``FAILED``, ``KILLED``, a ``RUNNING`` run whose
process is gone) failed; images logged with ``log_image(key=, step=)`` as ``gittrack.Image`` at
their step. Deleted runs and experiments, and other artifacts, are not imported.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gittrack.errors import FormatError, NotFoundError, UsageError
from gittrack.importers.batch import Source
from gittrack.importers.common import Row, SourceRun

TOOL = "mlflow"
Point = tuple[int, int, Any]  # one logged value: step, timestamp in milliseconds, value
# mlflow.log_image(key=, step=)'s file name; MLflow 2 used "%" where MLflow 3 uses "+"
_IMAGE_FILE = re.compile(r"(?P<key>.+?)[+%]step[+%](?P<step>\d+)[+%]timestamp[+%](?P<ms>\d+)"
                         r"[+%][0-9a-fA-F-]+\.(?:png|jpe?g)")
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
        run_id = run.info.run_id
        history: dict[str, list[Point]] = {}
        with _quiet():
            for key in sorted(run.data.metrics):
                metrics = self._call(lambda k=key: self.client.get_metric_history(run_id, k))
                history[key] = [(int(m.step), int(m.timestamp), float(m.value)) for m in metrics]
            for key, points in self._images(run_id).items():
                history.setdefault(key, []).extend(points)
        return to_source(self.uri, experiment.name, run, history)

    def _images(self, run_id: str) -> dict[str, list[Point]]:
        """Images logged with ``mlflow.log_image(image, key=, step=)`` (stored as
        ``images/<key>+step+<n>+timestamp+<ms>+<uuid>.png``) by key, as ``gittrack.Image``.
        Other artifacts are not imported; an image that cannot be fetched is left out."""
        from gittrack.formats.media.image import Image

        try:
            listed = self.client.list_artifacts(run_id, "images")
        except Exception:  # no artifact store reachable for this run: its metrics still count
            return {}
        found: dict[str, list[Point]] = {}
        with tempfile.TemporaryDirectory(prefix="gittrack-mlflow-") as scratch:
            for entry in listed:
                match = _IMAGE_FILE.fullmatch(entry.path.rsplit("/", 1)[-1])
                if entry.is_dir or match is None:
                    continue
                try:
                    local = self.client.download_artifacts(run_id, entry.path, scratch)
                    image = Image(local)  # reads the file now: the folder may go
                except Exception:
                    continue
                found.setdefault(match["key"], []).append(
                    (int(match["step"]), int(match["ms"]), image))
        return found

    def _call(self, fn: Any) -> Any:
        with _quiet():
            try:
                return fn()
            except Exception as exc:  # MLflow's errors (a damaged meta.yaml, ...): one line
                raise FormatError(f"{self.uri}: {_line(exc)}") from None


def to_source(uri: str, project: str, run: Any, history: dict[str, list[Point]]) -> SourceRun:
    """An MLflow run (``mlflow.entities.Run``) and its histories (``(step, milliseconds,
    value)`` by key) as a ``SourceRun``."""
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


def _rows(history: dict[str, list[Point]]) -> tuple[Row, ...]:
    """Metric histories joined by step: one row per step, each key's value at that step (the
    latest by timestamp when MLflow has several)."""
    steps: dict[int, dict[str, tuple[int, Any]]] = {}
    for key, points in history.items():
        for step, millis, value in points:
            row = steps.setdefault(step, {})
            if key not in row or millis >= row[key][0]:
                row[key] = (millis, value)
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
        with _environment(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


# MLflow 3 refuses to open a file store ("maintenance mode") unless MLFLOW_ALLOW_FILE_STORE is
# set: reading one is what importing it means. Its progress bars would fill the terminal.
_ENVIRONMENT = {"MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}


@contextlib.contextmanager
def _environment() -> Iterator[None]:
    """``_ENVIRONMENT`` set while MLflow reads, as it was afterwards."""
    previous = {name: os.environ.get(name) for name in _ENVIRONMENT}
    os.environ.update(_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def sources(uri: str, experiment: str | None = None) -> list[Source]:
    """The MLflow runs at ``uri`` (of ``experiment`` when named) for ``batch.import_all``;
    a store or experiment that is not there is ``NotFoundError`` naming it."""
    store = Store(uri)
    return [(f"{store.uri}#{run_id}", functools.partial(store.read, item))
            for run_id, item in store.runs(experiment)]
