"""Exporting runs to plain files ("you own your data"): one folder per run.

``DIR/<run-id>/`` holds ``history.<ext>`` (every logged row, unsampled; a step without a key
holds a null), ``histograms.<ext>`` when the run logged histograms, and ``config.json``,
``summary.json``, ``metadata.json``, and ``output.log`` when the run's console output was
captured (``RunView.console``). ``<ext>`` is ``csv``, ``parquet`` or ``jsonl``:

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
from gittrack.errors import FormatError, OutputError, RepositoryError, UsageError
from gittrack.formats.jsonio import json_dumps
from gittrack.runs import ids
from gittrack.runs.index import ErrorHandler
from gittrack.runs.view import RunView

if TYPE_CHECKING:
    import pyarrow as pa

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

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.run_id, "name": self.name, "directory": str(self.directory),
                "files": [str(f) for f in self.files], "rows": self.rows,
                "histogram_rows": self.histogram_rows}


def export_runs(
    views: Sequence[RunView], out_dir: Path, fmt: str, on_error: ErrorHandler | None = None
) -> list[ExportedRun]:
    """Export each run (once, even if named twice) to ``out_dir/<run-id>/``.

    A run that cannot be read raises, or with ``on_error`` is reported to it and the others
    are exported.
    """
    check_format(fmt)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"cannot export to {out_dir}: it exists and is not a directory")
    unique = {view.id: view for view in views}
    done = []
    for view in unique.values():
        try:
            done.append(export_run(view, out_dir, fmt))
        except (FormatError, RepositoryError) as exc:  # what reading a bad run raises
            if on_error is None:
                raise
            on_error(view.id, exc)
    return done


def check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")


def export_run(view: RunView, out_dir: Path, fmt: str) -> ExportedRun:
    """Write one run's files to ``out_dir/<run-id>/`` (each file replaced atomically)."""
    check_format(fmt)
    # everything is read before anything is written: a run that cannot be read leaves nothing
    history = view.history_arrow()
    histograms = view.histograms(format="arrow")
    documents = (("config", view.config), ("summary", view.summary), ("metadata", view.metadata))
    output = view.console()
    if not ids.is_valid_run_id(view.id):  # never a path from a ref name a remote forged
        raise FormatError(ids.invalid_run_message(view.id))
    directory = out_dir / view.id
    _mkdir(directory)
    files = [write_table(history, directory / f"history.{fmt}", fmt)]
    if histograms.num_rows:
        files.append(write_table(histograms, directory / f"histograms.{fmt}", fmt))
    for name, data in documents:
        files.append(write_json(data, directory / f"{name}.json"))
    if output:  # what the run printed, as W&B names it
        files.append(_atomic(directory / "output.log", lambda out: _write_text(output, out)))
    return ExportedRun(run_id=view.id, name=view.name, directory=directory, files=tuple(files),
                       rows=history.num_rows, histogram_rows=histograms.num_rows)


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
