"""Parquet chunks of a run: history (one row per step) and histograms.

Each chunk is an immutable Parquet file written at a checkpoint. A run's full table is the
concatenation of its chunks in name order; a key missing from a chunk reads as nulls, and a
column whose type widened between chunks (bool → int → float) is read at the widest type.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gittrack.errors import FormatError
from gittrack.formats import arrow

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT_VERSION = "1"
MAX_CHUNK_BYTES = 1 << 30
"""The most uncompressed data a chunk may declare (a checkpoint's chunk is rarely 1 MB):
a forged chunk of a few KB must not make a reader allocate gigabytes."""
STEP, TIMESTAMP, RUNTIME = "_step", "_timestamp", "_runtime"
SYSTEM_COLUMNS = (STEP, TIMESTAMP, RUNTIME)


def history_chunk(
    steps: Sequence[int],
    timestamps: Sequence[float],
    runtimes: Sequence[float],
    columns: dict[str, list[Any]],
) -> bytes:
    """Parquet bytes for one checkpoint's rows; ``columns`` values are lists padded with None."""
    import pyarrow as pa

    arrays = [arrow.numeric(steps, "int"), arrow.numeric(timestamps, "float"),
              arrow.numeric(runtimes, "float")]
    names = list(SYSTEM_COLUMNS)
    for name, values in columns.items():
        arrays.append(arrow.column(values))
        names.append(name)
    return _write(pa.Table.from_arrays(arrays, names=names))


def histogram_chunk(rows: Sequence[tuple[str, int, float, list[float], list[float]]]) -> bytes:
    """Parquet bytes for histogram rows ``(key, step, timestamp, edges, counts)``."""
    import pyarrow as pa

    keys = [r[0] for r in rows]
    table = pa.Table.from_arrays(
        [arrow.strings(keys), arrow.numeric([r[1] for r in rows], "int"),
         arrow.numeric([r[2] for r in rows], "float"), arrow.float_lists([r[3] for r in rows]),
         arrow.float_lists([r[4] for r in rows])],
        names=["key", STEP, TIMESTAMP, "edges", "counts"],
    )
    return _write(table)


def _write(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = table.replace_schema_metadata({"gittrack.format": FORMAT_VERSION})
    floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    encodings = dict.fromkeys(floats, "BYTE_STREAM_SPLIT")
    sink = io.BytesIO()
    pq.write_table(
        table, sink, compression="zstd",
        use_dictionary=[f.name for f in table.schema if f.name not in encodings],
        column_encoding=encodings or None,
    )
    return sink.getvalue()


def read_chunk(data: bytes, *, what: str = "chunk") -> pa.Table:
    """One chunk; ``FormatError`` naming ``what`` for anything that is not a Parquet file
    gittrack can read (corrupt, truncated, or declaring more than ``MAX_CHUNK_BYTES``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # ParquetFile, not read_table: read_table imports pyarrow.dataset, and with it pandas
        chunk = pq.ParquetFile(pa.BufferReader(data))
        meta = chunk.metadata
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        table = chunk.read() if size <= MAX_CHUNK_BYTES else None
    except Exception as exc:  # a decoder fed forged bytes fails in many ways: ArrowInvalid,
        # OSError, a UnicodeDecodeError from damaged metadata, ...
        raise FormatError(f"cannot read {what}: {type(exc).__name__}: {exc}") from None
    if table is None:
        raise FormatError(f"cannot read {what}: it declares {size:,} bytes of data, more than "
                          f"the {MAX_CHUNK_BYTES:,} a chunk may hold")
    return table


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
    types: dict[str, pa.DataType] = {}
    for table in tables:
        for field in table.schema:
            known = types.get(field.name)
            types[field.name] = field.type if known is None else _wider(known, field.type)
    heads = [n for n in first if n in types]
    leading = set(heads)
    order = heads + [n for n in types if n not in leading]
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
