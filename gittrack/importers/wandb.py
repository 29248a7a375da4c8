"""Reading W&B run folders (``wandb/run-*``, ``wandb/offline-run-*``) as ``SourceRun``s.

A run folder holds ``run-<id>.wandb``, the record stream W&B writes whether the run was online
or offline (read with ``importers/wandb_log.py`` and W&B's own protobuf classes, so the
``wandb`` extra is needed), and ``files/`` (media under ``files/media/``; for a synced run also
``config.yaml`` and ``wandb-summary.json``, and for old versions ``wandb-history.jsonl``). The
record stream is the source when present; a folder without it is read from ``files/``.

What becomes what (docs/importers.md): config entries (``_wandb`` skipped); history rows with
``_step`` as the step and ``_timestamp`` as the time (``_runtime`` is derived again by gittrack);
the summary as W&B last left it, without ``_wandb``, ``_step``, ``_runtime``, ``_timestamp`` and
media files; image files (``{"_type": "image-file", "path": ...}``) as ``gittrack.Image``,
histograms as ``gittrack.Histogram``; other W&B media (tables, videos, ...) are left out. A run
without an exit record (its process died: W&B's "crashed") is imported as failed.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from gittrack.errors import FormatError, GittrackError, NotFoundError, UsageError
from gittrack.formats import yamlio
from gittrack.importers.batch import Source
from gittrack.importers.common import Row, SourceRun
from gittrack.importers.wandb_log import records

TOOL = "wandb"
_INTERNAL = frozenset({"_step", "_runtime", "_timestamp", "_wandb"})


def find_runs(path: str | Path) -> list[Path]:
    """The W&B run folders at ``path``: a run folder itself, a ``wandb/`` folder holding
    several, or a folder holding ``wandb/``. ``NotFoundError`` names ``path`` when it has
    none."""
    root = Path(path)
    if not root.exists():
        raise NotFoundError(f"{path}: no such file or folder")
    if root.is_file() and root.suffix == ".wandb":
        return [root.parent]
    if _is_run(root):
        return [root]
    for base in (root, root / "wandb"):
        if base.is_dir():
            found = sorted({p.resolve() for p in base.iterdir()
                            if p.is_dir() and not p.is_symlink() and _is_run(p)})
            if found:
                return found
    raise NotFoundError(f"{path}: no W&B run folders (run-*, offline-run-*) found")


def _is_run(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    name = folder.name
    return (name.startswith(("run-", "offline-run-")) or any(folder.glob("run-*.wandb"))
            or (folder / "files" / "wandb-summary.json").is_file())


def read_run(folder: Path) -> SourceRun:
    """One W&B run folder as a ``SourceRun`` (``FormatError`` naming the file if damaged)."""
    streams = sorted(folder.glob("run-*.wandb"))
    if streams:
        return _Replay(folder).read(streams[0])
    if (folder / "files").is_dir():
        return _from_files(folder)
    raise FormatError(f"{folder}: no run-*.wandb file and no files/ folder: not a W&B run")


def _key(project: str | None, folder: Path) -> str:
    """A W&B run's identity for ``common.imported_run_id``: its project and the folder's name
    (``offline-run-<time>-<id>``: W&B's run id, and which process wrote it when a resumed run
    has several folders); not the folder's location, so a moved folder is still found."""
    return f"{project or ''}/{folder.name}"


def run_id_of(folder: Path) -> str:
    """The W&B run id a folder is named after (``run-20240101_120000-<id>``)."""
    return folder.name.rsplit("-", 1)[-1]


class _Replay:
    """Applies a run file's records in order, as W&B does when it syncs the run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.meta: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.summary: dict[str, Any] = {}
        self.rows: list[Row] = []
        self.exit_code: int | None = None
        self.runtime: float | None = None

    def read(self, stream: Path) -> SourceRun:
        pb = _proto()
        for data in records(stream):
            record = pb.Record()
            try:
                record.ParseFromString(data)
            except Exception as exc:  # protobuf's DecodeError: the file is damaged
                raise FormatError(f"{stream}: damaged W&B record ({exc})") from None
            kind = record.WhichOneof("record_type")
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                handler(getattr(record, kind), stream)
        if "id" not in self.meta:
            raise FormatError(f"{stream}: no run record: not a complete W&B run file")
        return self._result()

    def _on_run(self, run: Any, stream: Path) -> None:
        self.meta.update(
            id=run.run_id, project=run.project or None, group=run.run_group or None,
            job_type=run.job_type or None, name=run.display_name or None,
            notes=run.notes or None, tags=tuple(run.tags),
            start=run.start_time.seconds + run.start_time.nanos / 1e9
            if run.HasField("start_time") else None)
        _apply(self.config, run.config.update, run.config.remove, stream)
        _apply(self.summary, run.summary.update, run.summary.remove, stream)

    def _on_config(self, config: Any, stream: Path) -> None:
        _apply(self.config, config.update, config.remove, stream)

    def _on_summary(self, summary: Any, stream: Path) -> None:
        _apply(self.summary, summary.update, summary.remove, stream)

    def _on_history(self, history: Any, stream: Path) -> None:
        values: dict[str, Any] = {}
        for item in history.item:
            _set(values, _path(item), _item_value(item, stream))
        step = values.pop("_step", None)
        if not isinstance(step, int):
            step = history.step.num
        stamp = values.pop("_timestamp", None)
        values.pop("_runtime", None)
        self.rows.append(Row(step=int(step), timestamp=_seconds(stamp),
                             values=self._media(values)))

    def _on_exit(self, exit_record: Any, stream: Path) -> None:
        self.exit_code = int(exit_record.exit_code)
        self.runtime = float(exit_record.runtime)

    def _media(self, values: dict[str, Any]) -> dict[str, Any]:
        converted = {k: media_value(self.folder / "files", v) for k, v in values.items()}
        return {k: v for k, v in converted.items() if v is not _SKIP}

    def _result(self) -> SourceRun:
        meta = self.meta
        start = meta["start"]
        stamps = [r.timestamp for r in self.rows if r.timestamp is not None]
        end = max(stamps) if stamps else None
        if start is not None and self.runtime is not None:
            end = max(end or 0.0, start + self.runtime)
        return SourceRun(
            kind=TOOL, key=_key(meta["project"], self.folder),
            location=str(self.folder.resolve()), name=meta["name"], project=meta["project"],
            group=meta["group"], job_type=meta["job_type"], tags=meta["tags"],
            notes=meta["notes"], config=_config(self.config), summary=_summary(self.summary),
            rows=tuple(self.rows), start_time=start, end_time=end,
            # no exit record: the process died (W&B's "crashed"); an import cannot be live
            exit_code=1 if self.exit_code is None else self.exit_code)


def _proto() -> Any:
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError:
        raise UsageError("reading W&B run files needs the wandb package: "
                         "pip install 'gittrack[wandb]'") from None
    return wandb_internal_pb2


def _path(item: Any) -> list[str]:
    return list(item.nested_key) if item.nested_key else [item.key]


def _item_value(item: Any, stream: Path) -> Any:
    kind = item.WhichOneof("value") if hasattr(item, "WhichOneof") else None
    if kind is None or item.value_json:
        return _json(item.value_json, stream)
    if kind == "none":
        return None
    if kind == "json":
        return _json(item.json, stream)
    return getattr(item, kind)


def _json(text: str, stream: Path) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        raise FormatError(f"{stream}: damaged W&B record (value {text[:60]!r} is not JSON)"
                          ) from None
    except RecursionError:
        raise FormatError(f"{stream}: a W&B value nested too deeply to read") from None


def _apply(target: dict[str, Any], updates: Iterable[Any], removes: Iterable[Any],
           stream: Path) -> None:
    for item in updates:
        _set(target, _path(item), _json(item.value_json, stream))
    for item in removes:
        _remove(target, _path(item))


def _set(target: MutableMapping[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        inner = target.get(part)
        if not isinstance(inner, dict):
            inner = target[part] = {}
        target = inner
    target[path[-1]] = value


def _remove(target: MutableMapping[str, Any], path: Sequence[str]) -> None:
    for part in path[:-1]:
        inner = target.get(part)
        if not isinstance(inner, dict):
            return
        target = inner
    target.pop(path[-1], None)


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _config(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "_wandb"}


def _summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """W&B's summary without its own keys, and without media kept as files (an image's
    ``{"_type": "image-file", "path": ...}`` names a file of the W&B folder; the image itself
    is in the run's media). Histograms stay: gittrack's summary holds them the same way."""
    return {k: v for k, v in summary.items()
            if k not in _INTERNAL and not (_is_media(v) and v.get("_type") != "histogram")}


def _is_media(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("_type"), str)


_SKIP = object()


def media_value(files: Path, value: Any) -> Any:
    """A history value with W&B media (``{"_type": ...}``) as gittrack media, ``_SKIP`` for
    media gittrack does not import and for lists; other values unchanged (nested dicts
    walked)."""
    if isinstance(value, list):
        return _SKIP  # W&B keeps lists in its history; gittrack's history holds scalars
    if not isinstance(value, dict):
        return value
    kind = value.get("_type")
    if kind is None:
        out = {}
        for k, v in value.items():
            converted = media_value(files, v)
            if converted is not _SKIP:
                out[k] = converted
        return out
    if kind == "images/separated":
        names = value.get("filenames") or []
        captions = value.get("captions") or [None] * len(names)
        return [_file(files, "image-file", n, c) for n, c in zip(names, captions, strict=False)
                ] or _SKIP
    if kind == "histogram":
        return _histogram(value)
    if kind == "table-file":
        return _table(files, value.get("path"))
    return _file(files, kind, value.get("path"), value.get("caption"))


def _file(files: Path, kind: str, relative: Any, caption: Any) -> Any:
    """The gittrack media of a W&B media file (``kind``), ``_SKIP`` for a kind gittrack does
    not import, a path out of the run folder or a file W&B did not keep."""
    from gittrack.formats.media.audio import Audio
    from gittrack.formats.media.image import Image
    from gittrack.formats.media.text import Html
    from gittrack.formats.media.video import Video

    path = _inside(files, relative)
    makers: dict[str, Callable[[], Any]] = {
        "image-file": lambda: Image(str(path), caption=caption),
        "video-file": lambda: Video(str(path), caption=caption),
        "audio-file": lambda: Audio(str(path), caption=caption),
        "html-file": lambda: Html(path, inject=False),  # W&B's file has its own head already
    }
    if path is None or kind not in makers:
        return _SKIP
    media = makers[kind]()
    try:  # a damaged file is left out, as W&B shows a run whose media file is broken
        media.payloads(str(relative))
    except (GittrackError, OSError, ValueError):
        return _SKIP
    return media


def _inside(files: Path, relative: Any) -> Path | None:
    if not isinstance(relative, str):
        return None
    path = (files / relative).resolve()
    return path if path.is_relative_to(files.resolve()) and path.is_file() else None


def _table(files: Path, relative: Any) -> Any:
    """A W&B ``table.json`` (``{"columns": [...], "data": [[...]]}``) as a ``gittrack.Table``;
    media cells become gittrack media, cells gittrack cannot hold ``None``."""
    from gittrack.formats.media.table import Table

    path = _inside(files, relative)
    if path is None:
        return _SKIP
    document = _read_json(path, None)
    if not isinstance(document, dict) or not isinstance(document.get("columns"), list) \
            or not isinstance(document.get("data"), list):
        return _SKIP
    rows = [[None if (c := media_value(files, cell)) is _SKIP else c for cell in row]
            for row in document["data"] if isinstance(row, list)]
    return Table(columns=[str(c) for c in document["columns"]], data=rows)


def _histogram(value: Mapping[str, Any]) -> Any:
    from gittrack.formats.histogram import Histogram

    counts = value.get("values")
    bins = value.get("bins")
    packed = value.get("packedBins")
    if isinstance(packed, dict) and isinstance(counts, list):
        start, size = packed.get("min", 0), packed.get("size", 1)
        bins = [start + i * size for i in range(len(counts) + 1)]
    if not isinstance(counts, list) or not isinstance(bins, list):
        return _SKIP
    try:
        return Histogram(np_histogram=(counts, bins))
    except (ValueError, TypeError):
        return _SKIP


def _from_files(folder: Path) -> SourceRun:
    """A run folder without its record stream: ``files/config.yaml``,
    ``files/wandb-summary.json``, ``files/wandb-history.jsonl``, ``files/wandb-metadata.json``."""
    files = folder / "files"
    config = _read_config(files / "config.yaml")
    summary = _read_json(files / "wandb-summary.json", {})
    meta = _read_json(files / "wandb-metadata.json", {})
    rows = list(_history_rows(files))
    stamps = [r.timestamp for r in rows if r.timestamp is not None]
    project = meta.get("project") if isinstance(meta, dict) else None
    return SourceRun(
        kind=TOOL, key=_key(project, folder), location=str(folder.resolve()),
        name=meta.get("display_name") if isinstance(meta, dict) else None,
        project=project, config=config,
        summary=_summary(summary if isinstance(summary, dict) else {}),
        rows=tuple(rows), start_time=min(stamps) if stamps else None,
        end_time=max(stamps) if stamps else None)


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = yamlio.load(path.read_bytes(), what=str(path))
    except OSError as exc:
        raise FormatError(f"{path}: cannot read W&B config ({exc})") from None
    if not isinstance(document, dict):
        raise FormatError(f"{path}: W&B config is not a mapping")
    return {str(k): (v["value"] if isinstance(v, dict) and "value" in v else v)
            for k, v in document.items() if k != "_wandb" and k != "wandb_version"}


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise FormatError(f"{path}: cannot read ({exc})") from None


def _history_rows(files: Path) -> Iterator[Row]:
    path = files / "wandb-history.jsonl"
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except (ValueError, RecursionError):
                raise FormatError(f"{path}:{number}: not a JSON line") from None
            if not isinstance(values, dict):
                raise FormatError(f"{path}:{number}: not a JSON object")
            step = values.pop("_step", number - 1)
            if isinstance(step, bool) or not isinstance(step, int):
                raise FormatError(f"{path}:{number}: _step is {step!r}, not a whole number")
            stamp = values.pop("_timestamp", None)
            values.pop("_runtime", None)
            values = {k: media_value(files, v) for k, v in values.items()}
            yield Row(step=int(step), timestamp=_seconds(stamp),
                      values={k: v for k, v in values.items() if v is not _SKIP})


def sources(path: str | Path) -> list[Source]:
    """The W&B runs at ``path`` for ``batch.import_all``: ``NotFoundError`` naming ``path``
    when it holds none."""
    return [(str(folder), functools.partial(read_run, folder)) for folder in find_runs(path)]
