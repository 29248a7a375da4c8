"""Exporting runs to plain files ("you own your data"): one folder per run.

``DIR/<run-id>/`` holds ``history.<ext>`` (every logged row, unsampled; a step without a key
holds a null), ``histograms.<ext>`` when the run logged histograms, and ``config.json``,
``summary.json``, ``metadata.json``, and ``output.log`` when the run's console output was
captured (``RunView.console``). A run that logged media also gets each media file at its
stored path (``media/<key>/<step>_<seq>_<item>.<format>``, verified) and ``media.<ext>``, the
index of them: key, step, type, item, path (relative to the run's folder), caption, width,
height, length, format, meta (a JSON object as text), digest and size. ``<ext>`` is ``csv``,
``parquet`` or ``jsonl``:

- parquet keeps every type exactly (int vs float, NaN vs null, lists).
- csv: a null is an empty field, NaN and ±inf are ``nan``, ``inf``, ``-inf``; an empty string
  is ``""`` (quoted). Histogram ``edges`` and ``counts`` are JSON arrays in a string.
- jsonl: one JSON object per row, nulls kept as ``null``.

JSON has no NaN or infinity: in jsonl and the ``.json`` files they are the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``.

>>> export_runs([api.run("baseline")], Path("out"), "csv")               # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from gittrack.atomic import atomic_output
from gittrack.errors import (
    CryptoError,
    FormatError,
    OutputError,
    RepositoryError,
    StorageError,
    UsageError,
)
from gittrack.formats.jsonio import json_dumps
from gittrack.runs import ids, layout
from gittrack.runs.index import ErrorHandler
from gittrack.runs.view import RunView

if TYPE_CHECKING:
    import pyarrow as pa

    from gittrack.runs.media_index import MediaRow
    from gittrack.storage.entry import ManifestEntry
    from gittrack.storage.vault import BlobVault

EXPORT_FORMATS = ("csv", "parquet", "jsonl")
DEFAULT_DIR = "gittrack-export"
_JSONL_BATCH = 8192


@dataclasses.dataclass(frozen=True, slots=True)
class ExportedRun:
    """What ``export_run`` wrote for one run."""

    run_id: str
    name: str
    directory: Path
    files: tuple[Path, ...]
    rows: int
    histogram_rows: int
    media_files: int = 0
    """Media files written under ``directory / "media"`` (not listed in ``files``, which
    names ``media.<ext>``, their index)."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.run_id, "name": self.name, "directory": str(self.directory),
                "files": [str(f) for f in self.files], "rows": self.rows,
                "histogram_rows": self.histogram_rows, "media_files": self.media_files}


def export_runs(
    views: Sequence[RunView], out_dir: Path, fmt: str, on_error: ErrorHandler | None = None,
    *, media: bool = True,
) -> list[ExportedRun]:
    """Export each run (once, even if named twice) to ``out_dir/<run-id>/`` (``media``: with
    its media files and their index).

    A run that cannot be read (its media included) raises, or with ``on_error`` is reported
    to it and the others are exported.
    """
    check_format(fmt)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"cannot export to {out_dir}: it exists and is not a directory")
    unique = {view.id: view for view in views}
    done = []
    for view in unique.values():
        try:
            done.append(export_run(view, out_dir, fmt, media=media))
        # what reading a bad run raises; a media file the store lacks or cannot decrypt
        except (FormatError, RepositoryError, StorageError, CryptoError) as exc:
            if on_error is None:
                raise
            on_error(view.id, exc)
    return done


def check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")


def export_run(view: RunView, out_dir: Path, fmt: str, *, media: bool = True) -> ExportedRun:
    """Write one run's files to ``out_dir/<run-id>/`` (each file replaced atomically)."""
    check_format(fmt)
    # everything is read before anything is written: a run that cannot be read leaves nothing
    history = view.history_arrow()
    histograms = view.histograms(format="arrow")
    documents = (("config", view.config), ("summary", view.summary), ("metadata", view.metadata))
    output = view.console()
    if not ids.is_valid_run_id(view.id):  # never a path from a ref name a remote forged
        raise FormatError(ids.invalid_run_message(view.id))
    rows = view.media_rows() if media else []
    directory = out_dir / view.id
    media_files = _media_files(view, rows, directory) if rows else []
    _mkdir(directory)
    files = [write_table(history, directory / f"history.{fmt}", fmt)]
    if histograms.num_rows:
        files.append(write_table(histograms, directory / f"histograms.{fmt}", fmt))
    for name, data in documents:
        files.append(write_json(data, directory / f"{name}.json"))
    if output:  # what the run printed, as W&B names it
        files.append(_atomic(directory / "output.log", lambda out: _write_text(output, out)))
    if rows:
        _vault(view).fetch_many(media_files, what=f"media of run {view.id}")
        files.append(write_table(media_table(rows), directory / f"media.{fmt}", fmt))
    return ExportedRun(run_id=view.id, name=view.name, directory=directory, files=tuple(files),
                       rows=history.num_rows, histogram_rows=histograms.num_rows,
                       media_files=len({target for _, target in media_files}))


def _media_files(view: RunView, rows: Sequence[MediaRow],
                 directory: Path) -> list[tuple[ManifestEntry, Path]]:
    """Each media file and where it goes: its stored path under the run's folder. Every name
    is checked, and every file's bytes are put in the local cache (downloaded, verified),
    before anything is written: a file that cannot be had fails the run, leaving nothing."""
    from gittrack.storage.materialize import DownloadRoot
    from gittrack.storage.transfers import parallel

    root = DownloadRoot(directory)
    pairs = [(row.entry, root.path(_checked_path(view, row.path))) for row in rows]
    vault = _vault(view)
    entries = list({entry.digest: entry for entry, _ in pairs}.values())
    parallel(lambda e: vault.cached(e, what=f"media of run {view.id}"), entries,
             workers=vault.workers, label=f"downloading media of run {view.id}",
             sizes=lambda e: e.size)
    return pairs


def _vault(view: RunView) -> BlobVault:
    from gittrack.storage.project import open_storage

    return open_storage(view.repo)


def _checked_path(view: RunView, path: str) -> str:
    """``path``, when it is a relative file name under ``media/`` (``check_entry_path``): a
    remote could forge an index naming ``../x``, a ``FormatError`` (nothing written). A
    folder in the output that is a link leading out of the run's folder is refused by
    ``DownloadRoot``."""
    from gittrack.storage.entry import check_entry_path

    problem = None
    try:
        check_entry_path(path, what="media file")
    except UsageError as exc:
        problem = str(exc)
    if problem is not None or not path.startswith(f"{layout.MEDIA_DIR}/"):
        raise FormatError(f"run {view.id}: the media index names the file {path[:200]!r}, "
                          f"which is not a relative path under {layout.MEDIA_DIR}/: nothing "
                          "exported for this run")
    return path


def media_table(rows: Sequence[MediaRow]) -> pa.Table:
    """The exported media index: one row per file, in the order they were logged."""
    import pyarrow as pa

    return pa.table({
        "key": pa.array([r.key for r in rows], pa.string()),
        "step": pa.array([r.step for r in rows], pa.int64()),
        "type": pa.array([r.type for r in rows], pa.string()),
        "item": pa.array([r.item for r in rows], pa.int64()),
        "path": pa.array([r.path for r in rows], pa.string()),
        "caption": pa.array([r.caption for r in rows], pa.string()),
        "width": pa.array([r.width for r in rows], pa.int64()),
        "height": pa.array([r.height for r in rows], pa.int64()),
        "length": pa.array([r.length for r in rows], pa.float64()),
        "format": pa.array([r.format for r in rows], pa.string()),
        "meta": pa.array([json_dumps(r.meta) for r in rows], pa.string()),
        "digest": pa.array([str(r.entry.digest) for r in rows], pa.string()),
        "size": pa.array([r.entry.size for r in rows], pa.int64()),
    })


def _mkdir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {directory}: {exc.strerror or exc}") from None


# -- writers --------------------------------------------------------------------------------


def write_table(table: pa.Table, path: Path, fmt: str) -> Path:
    writers: dict[str, Callable[[pa.Table, BinaryIO], None]] = {
        "csv": _write_csv, "parquet": _write_parquet, "jsonl": _write_jsonl,
    }
    check_format(fmt)
    # One piece per column: Arrow's writers pay per column per chunk, and a run's columns
    # come in one chunk per checkpoint (100,000 keys × 20 chunks: 23 s of CSV, not 2)
    whole = table.combine_chunks()
    return _atomic(path, lambda out: writers[fmt](whole, out))


def write_json(data: Any, path: Path) -> Path:
    def write(out: BinaryIO) -> None:
        out.write((json_dumps(data, indent=2) + "\n").encode("utf-8"))

    return _atomic(path, write)


def _write_text(text: str, out: BinaryIO) -> None:
    out.write(text.encode("utf-8"))


def _atomic(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write through a temporary name and rename: a reader never sees half a file, and no
    failure (a full disk, a value a writer refuses) leaves the temporary file behind."""
    with atomic_output(path, error=OutputError) as out:
        write(out)
    return path


def _write_parquet(table: pa.Table, out: BinaryIO) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, out, compression="zstd")


def _write_csv(table: pa.Table, out: BinaryIO) -> None:
    import pyarrow.csv as pcsv

    pcsv.write_csv(_lists_as_json(table), out)


def _lists_as_json(table: pa.Table) -> pa.Table:
    """CSV has no lists: histogram ``edges``/``counts`` become JSON arrays in strings."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            text = [None if v is None else json_dumps(v)
                    for v in table.column(index).to_pylist()]
            table = table.set_column(index, field.name, pa.array(text, pa.string()))
    return table


def _write_jsonl(table: pa.Table, out: BinaryIO) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    try:
        _jsonl_rows(table, text)
        text.flush()
    finally:
        text.detach()  # the caller closes ``out``


def _jsonl_rows(table: pa.Table, out: IO[str]) -> None:
    for batch in table.to_batches(max_chunksize=_JSONL_BATCH):
        out.writelines(json_dumps(row) + "\n" for row in batch.to_pylist())
