"""Parquet chunks of a run: history (one row per step) and histograms.

Each chunk is an immutable Parquet file written at a checkpoint. A run's full table is the
concatenation of its chunks in name order; a key missing from a chunk reads as nulls, and a
column whose type widened between chunks (bool → int → float) is read at the widest type.
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gittrack.errors import FormatError
from gittrack.formats import arrow

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FORMAT_VERSION = "1"
MAX_CHUNK_BYTES = 1 << 30
"""The most memory a chunk's data may take decoded (a checkpoint's chunk is rarely 1 MB, and
a larger checkpoint is split: ``WRITE_SHARE``): a forged chunk of a few KB must not make a
reader allocate gigabytes."""
STEP, TIMESTAMP, RUNTIME = "_step", "_timestamp", "_runtime"
SYSTEM_COLUMNS = (STEP, TIMESTAMP, RUNTIME)


WRITE_SHARE = 4
"""A chunk a checkpoint writes takes at most ``MAX_CHUNK_BYTES // WRITE_SHARE`` decoded, as
the reader measures it: well under what readers accept (docs/decisions.md, "Checkpoints
split their rows")."""


def history_chunks(
    steps: Sequence[int],
    timestamps: Sequence[float],
    runtimes: Sequence[float],
    columns: dict[str, list[Any]],
) -> list[bytes]:
    """Parquet bytes for one checkpoint's rows, in as many consecutive chunks as the bound
    on what a reader decodes requires (usually one); ``columns`` values are lists padded
    with None."""
    return [encode(part) for part in split(history_table(steps, timestamps, runtimes,
                                                           columns))]


def history_chunk(
    steps: Sequence[int],
    timestamps: Sequence[float],
    runtimes: Sequence[float],
    columns: dict[str, list[Any]],
) -> bytes:
    """One chunk of these rows, however large (tests and forged chunks; checkpoints write
    ``history_chunks``)."""
    return encode(history_table(steps, timestamps, runtimes, columns))


def history_table(
    steps: Sequence[int],
    timestamps: Sequence[float],
    runtimes: Sequence[float],
    columns: dict[str, list[Any]],
) -> pa.Table:
    import pyarrow as pa

    arrays = [arrow.numeric(steps, "int"), arrow.numeric(timestamps, "float"),
              arrow.numeric(runtimes, "float")]
    names = list(SYSTEM_COLUMNS)
    for name, values in columns.items():
        arrays.append(arrow.column(values))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def float_history_table(steps: np.ndarray, timestamps: np.ndarray, start_time: float,
                        keys: Sequence[str], columns: Sequence[np.ndarray]) -> pa.Table:
    """The table ``history_table`` makes of rows whose values are all floats, from arrays:
    ``steps`` (int64), ``timestamps`` (float64) and one float64 array per key; the runtimes
    are the timestamps minus ``start_time``. The same table, built without a Python object
    per value (``runs.buffer``'s float block)."""
    import numpy as np
    import pyarrow as pa

    def plain(arrow_type: pa.DataType, data: np.ndarray) -> pa.Array:
        data = np.ascontiguousarray(data)
        return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)])

    arrays = [plain(pa.int64(), steps), plain(pa.float64(), timestamps),
              plain(pa.float64(), timestamps - start_time)]
    arrays += [plain(pa.float64(), column) for column in columns]
    return pa.Table.from_arrays(arrays, names=[*SYSTEM_COLUMNS, *keys])


def histogram_chunks(rows: Sequence[tuple[str, int, float, list[float], list[float]]]
                     ) -> list[bytes]:
    """Parquet bytes for histogram rows ``(key, step, timestamp, edges, counts)``, split as
    ``history_chunks`` splits."""
    return [encode(part) for part in split(histogram_table(rows))]


def histogram_chunk(rows: Sequence[tuple[str, int, float, list[float], list[float]]]) -> bytes:
    """One chunk of histogram rows, however large (tests; checkpoints write
    ``histogram_chunks``)."""
    return encode(histogram_table(rows))


def histogram_table(rows: Sequence[tuple[str, int, float, list[float], list[float]]]
                     ) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_arrays(
        [arrow.strings([r[0] for r in rows]), arrow.numeric([r[1] for r in rows], "int"),
         arrow.numeric([r[2] for r in rows], "float"), arrow.float_lists([r[3] for r in rows]),
         arrow.float_lists([r[4] for r in rows])],
        names=["key", STEP, TIMESTAMP, "edges", "counts"],
    )


def decoded_size(table: pa.Table) -> int:
    """What ``table`` takes once a reader decoded it, as ``read_parquet`` measures it against
    ``MAX_CHUNK_BYTES``: what a writer checks before it writes a file it cannot split."""
    return sum(_decoded_bytes(batch) for batch in table.to_batches())


def release_memory() -> None:
    """Give the memory a large merge freed back to the system, where the allocators keep it
    for a next one that may come hours later (tens of MB in a long run, issue 10): pyarrow's
    pool, and glibc's heap, where the merge's large buffers went once glibc raised its mmap
    threshold to the size of the first one freed (as Dask trims its workers)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, ``None`` elsewhere (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:  # the symbols the process has loaded (no search for a library: no subprocess)
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def split(table: pa.Table) -> list[pa.Table]:
    """``table`` in consecutive slices that each decode to at most the write bound, measured
    as ``read_parquet`` measures (one row always fits: ``log()`` bounds a step far lower)."""
    limit = write_bound()
    size = decoded_size(table)
    if size <= limit or table.num_rows <= 1:
        return [table]
    half = table.num_rows // 2
    return split(table.slice(0, half)) + split(table.slice(half))


def write_bound() -> int:
    """The most a chunk a writer makes may decode to (256 MiB): ``MAX_CHUNK_BYTES`` read when
    called, so that tests can make it small."""
    return MAX_CHUNK_BYTES // WRITE_SHARE


def encode(table: pa.Table, metadata: dict[str, str] | None = None) -> bytes:
    """A chunk's Parquet bytes. A small chunk is written at every checkpoint, so its footer
    counts: no column statistics (no reader uses them), and no copy of the Arrow schema
    unless a column needs it to read back as written (lists: histograms); the types of a
    history chunk (int64, double, bool, string, null) are Parquet's own. ``metadata``: more
    key-value pairs of the footer (``chunk_metadata``; the Arrow schema is then stored, which
    carries them: pyarrow before 15 writes no other way)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = table.replace_schema_metadata({"gittrack.format": FORMAT_VERSION, **(metadata or {})})
    # floats: byte-stream split (their bytes of equal weight side by side compress);
    # integers (the steps, counters): deltas, a few bits a row where a dictionary page and
    # its indices took 2-3 bytes (a step is new at every row)
    encodings = {f.name: "BYTE_STREAM_SPLIT" if pa.types.is_floating(f.type)
                 else "DELTA_BINARY_PACKED"
                 for f in table.schema if pa.types.is_floating(f.type)
                 or (pa.types.is_integer(f.type) and f.type.bit_width >= 32)}
    sink = io.BytesIO()
    pq.write_table(
        table, sink, compression="zstd",
        use_dictionary=[f.name for f in table.schema if f.name not in encodings],
        column_encoding=encodings or None, write_statistics=False,
        store_schema=bool(metadata) or any(pa.types.is_nested(f.type) for f in table.schema),
    )
    return sink.getvalue()


def read_chunk(data: bytes, *, what: str = "chunk",
               columns: Sequence[str] | None = None) -> pa.Table:
    """One chunk; ``FormatError`` naming ``what`` for anything that is not a Parquet file
    gittrack can read (corrupt, truncated, or holding more than ``MAX_CHUNK_BYTES``).
    ``columns``: only those of them the chunk has (Parquet column projection: the others are
    not decoded), in the chunk's order."""
    if columns is not None:
        wanted = set(columns)
        columns = [f.name for f in chunk_schema(data, what=what)[0] if f.name in wanted]
    return read_parquet(data, what=what, columns=columns)


def chunk_schema(data: bytes | memoryview, *, what: str) -> tuple[pa.Schema, int]:
    """The columns and the row count a chunk's footer declares, nothing decoded (a forged
    file may lie about its rows: for display). ``FormatError`` naming ``what`` if ``data``
    is not Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        chunk = pq.ParquetFile(pa.BufferReader(data))
        return chunk.schema_arrow, chunk.metadata.num_rows
    except Exception as exc:  # forged bytes: see read_parquet
        raise FormatError(f"cannot read {what}: {type(exc).__name__}: {exc}"[:500]) from None


def chunk_metadata(data: bytes | memoryview, *, what: str) -> dict[str, str]:
    """The key-value pairs of a chunk's footer (what ``encode`` was given as ``metadata``;
    text that is not UTF-8 is left out). ``FormatError`` naming ``what`` if ``data`` is not
    Parquet."""
    raw = _footer(data, what).metadata or {}
    found = {}
    for key, value in raw.items():
        try:
            found[key.decode("utf-8")] = value.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return found


def union_schema(schemas: Iterable[pa.Schema],
                 first: Sequence[str] = SYSTEM_COLUMNS) -> list[pa.Field]:
    """The fields ``concat`` of tables of these schemas has, in its order and types."""
    import pyarrow as pa

    types: dict[str, pa.DataType] = {}
    for schema in schemas:
        for field in schema:
            known = types.get(field.name)
            types[field.name] = field.type if known is None else _wider(known, field.type)
    heads = [n for n in first if n in types]
    leading = set(heads)
    return [pa.field(n, types[n]) for n in heads + [n for n in types if n not in leading]]


def read_parquet(
    data: bytes | memoryview, *, what: str, columns: Sequence[str] | None = None,
    max_rows: int | None = None, max_bytes: int | None = None,
    row_groups: Sequence[int] | None = None, first: int | None = None,
) -> pa.Table:
    """The table in the Parquet file ``data`` (only ``columns``, if given), which may come from
    a remote: ``FormatError`` naming ``what`` if it is not Parquet, has more than ``max_rows``
    rows, or would take more than ``max_bytes`` in memory (docs/format.md, "Bounds").
    ``row_groups``: only those row groups; ``first``: stop decoding once that many rows are
    read (at least those, in file order; the caller slices) — what one file of a large
    artifact manifest needs (``groups_with``).

    A few KB of zstd can declare 300 million rows of zeros, and the sizes a Parquet footer
    declares are of the *encoded* pages (a run of zeros encodes to almost nothing): the
    bound is checked on what decoding makes — rows × the width of each column's values, from
    the footer, before anything is read; then batch by batch while decoding, so that a
    footer that lies stops the read at the bound, not at the end of memory.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    max_bytes = MAX_CHUNK_BYTES if max_bytes is None else max_bytes
    try:
        # ParquetFile, not read_table: read_table imports pyarrow.dataset, and with it pandas
        schema = pq.ParquetFile(pa.BufferReader(data)).schema_arrow
        fields = [schema.field(c) for c in columns] if columns is not None else list(schema)
        # Strings are read as dictionaries, and measured before they are expanded: a page of
        # one 1 MB string repeated is a few KB, and 65,536 rows of it 64 GB.
        texts = [f.name for f in fields if pa.types.is_string(f.type) or pa.types.is_binary(f.type)]
        chunk = pq.ParquetFile(pa.BufferReader(data), read_dictionary=texts or None)
        rows = chunk.metadata.num_rows
        width = sum(_width(f.type) for f in fields)
        _check_bounds(what, rows, rows * width, max_rows, max_bytes)
        batch_rows = max(1, min(1 << 16, _BATCH_BYTES // max(width, 1)))
        batches, total, count = [], 0, 0
        if first is not None:
            batch_rows = max(1, min(batch_rows, first))
        # A part of a file is a few batches: starting Arrow's thread pool for them costs more
        # than it saves (0.35 s against 0.12 s for one group of a 70 MB manifest, 2 cores).
        part = row_groups is not None or first is not None
        for batch in chunk.iter_batches(batch_size=batch_rows, columns=columns,
                                        row_groups=row_groups, use_threads=not part):
            total, count = total + _decoded_bytes(batch), count + batch.num_rows
            _check_bounds(what, count, total, max_rows, max_bytes)
            batches.append(_expanded(batch))
            if first is not None and count >= first:
                break
        if not batches:
            return pa.schema(fields, metadata=schema.metadata).empty_table()
        return pa.Table.from_batches(batches)
    except FormatError:
        raise
    except Exception as exc:  # a decoder fed forged bytes fails in many ways: ArrowInvalid,
        # OSError, a UnicodeDecodeError from damaged metadata, a KeyError for a column, ...
        raise FormatError(f"cannot read {what}: {type(exc).__name__}: {exc}"[:500]) from None


def row_count(data: bytes | memoryview, *, what: str) -> int:
    """The rows the Parquet file ``data`` declares in its footer (nothing decoded; a forged
    file may lie: only for display). ``FormatError`` naming ``what`` if it is not Parquet."""
    rows: int = _footer(data, what).num_rows
    return rows


def groups_with(data: bytes | memoryview, column: str, value: str, *,
                what: str) -> list[int]:
    """The row groups of the Parquet file ``data`` that may hold ``value`` in the string
    ``column``, by the min/max statistics of its footer (a group without them may hold
    anything): which groups to read to find one row of a sorted file. ``FormatError`` naming
    ``what`` if ``data`` is not Parquet or lacks ``column``."""
    meta = _footer(data, what)
    index = next((i for i in range(meta.num_columns) if meta.schema.column(i).path == column),
                 None)  # a leaf column's index, which an Arrow field's is not when nested
    if index is None:
        raise FormatError(f"{what} lacks the column {column}")
    found = []
    for group in range(meta.num_row_groups):
        try:
            stats = meta.row_group(group).column(index).statistics
            low, high = (stats.min, stats.max) if stats is not None and stats.has_min_max \
                else (None, None)
        except Exception:  # statistics that cannot be decoded: as if there were none
            low = high = None
        if not (isinstance(low, str) and isinstance(high, str)) or low <= value <= high:
            found.append(group)
    return found


def _footer(data: bytes | memoryview, what: str) -> Any:
    """The footer (``pq.FileMetaData``) of the Parquet file ``data``, or ``FormatError``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(pa.BufferReader(data)).metadata
    except Exception as exc:  # forged bytes: see read_parquet
        raise FormatError(f"cannot read {what}: {type(exc).__name__}: {exc}"[:500]) from None


def _decoded_bytes(batch: pa.RecordBatch) -> int:
    """What ``batch`` takes once its dictionary columns are expanded (their offsets and the
    bytes of the value each row points at), measured without expanding them: the one measure
    of the reader's bound and of the writer's split."""
    import pyarrow as pa
    import pyarrow.compute as pc

    size = 0
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            lengths = pc.binary_length(column.dictionary).take(column.indices)
            size += 8 * len(column) + (pc.sum(lengths).as_py() or 0)
        elif pa.types.is_string(column.type) or pa.types.is_binary(column.type):
            # as the reader counts it once read as a dictionary: a writer's plain column
            size += 8 * len(column) + (pc.sum(pc.binary_length(column)).as_py() or 0)
        else:
            size += column.nbytes
    return size


def _expanded(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with its dictionary columns as the plain columns gittrack wrote."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(c.type) for c in batch.columns):
        return batch
    columns = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c
               for c in batch.columns]
    fields = [pa.field(f.name, c.type, f.nullable, f.metadata)
              for f, c in zip(batch.schema, columns, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields, batch.schema.metadata))


_BATCH_BYTES = 64 << 20
"""What one decoded batch of a Parquet read takes, about: the step of the running check."""


def _width(kind: pa.DataType) -> int:
    """Bytes one value of ``kind`` takes decoded, at least: fixed-width types their width
    (a bool an eighth, rounded up), strings and lists their offset (their data is counted as
    it is decoded), a null column nothing."""
    import pyarrow as pa

    if pa.types.is_null(kind):
        return 0
    try:
        width: int = kind.bit_width
        return max(1, width // 8)
    except ValueError:  # not fixed-width
        return 8


def _check_bounds(what: str, rows: int, size: int, max_rows: int | None,
                  max_bytes: int) -> None:
    if max_rows is not None and rows > max_rows:
        raise FormatError(f"cannot read {what}: it has {rows:,} rows, more than the "
                          f"{max_rows:,} it may have")
    if size > max_bytes:
        raise FormatError(f"cannot read {what}: its data takes {size:,} bytes or more decoded, "
                          f"more than the {max_bytes:,} a Parquet file gittrack reads may hold")


def concat(tables: Iterable[pa.Table], first: Sequence[str] = SYSTEM_COLUMNS) -> pa.Table | None:
    """Concatenate chunks whose columns differ: union of columns, widened types, nulls filled.

    Linear in the number of columns of all chunks: each column is found by its position in
    its own chunk's schema, never by a search by name (a run of 10,000 keys in 20 chunks took
    a minute that way; docs/decisions.md, "Reading wide runs").
    """
    import pyarrow as pa

    tables = list(tables)
    if not tables:
        return None
    fields = union_schema((table.schema for table in tables), first)
    types = {f.name: f.type for f in fields}
    order = [f.name for f in fields]
    fixed = [_with_types(table, types) for table in tables]
    # Chunked columns, not combined: combining copies the whole table for no gain. Missing
    # columns are filled with nulls by Arrow ("default" promotion), in first-seen order.
    joined = pa.concat_tables(fixed, promote_options="default") if len(fixed) > 1 else fixed[0]
    return joined if joined.column_names == order else joined.select(order)


def _with_types(table: pa.Table, types: dict[str, pa.DataType]) -> pa.Table:
    """``table`` with each column cast to the type the whole run has for it."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        wanted = types[field.name]
        if field.type != wanted:
            # safe=False: an int64 above 2**53 widens to the nearest float, as in a chunk
            column = table.column(index).cast(wanted, safe=False)
            table = table.set_column(index, pa.field(field.name, wanted), column)
    return table


def _wider(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    if a == b or pa.types.is_null(b):
        return a
    if pa.types.is_null(a):
        return b
    rank = {pa.bool_(): 0, pa.int64(): 1, pa.float64(): 2}
    if a in rank and b in rank:
        return a if rank[a] >= rank[b] else b
    return pa.string()
