"""Overviews of large history chunks: what a chart of the whole run needs, without the rows
(docs/format.md, "Overviews"; docs/decisions.md, "Issue 14: overviews").

The overview of a chunk is a subset of its rows, with its columns: the chunk's rows are cut
into buckets of ``BUCKET`` consecutive rows, and for each bucket and each numeric column the
rows holding the column's first, last, lowest and highest finite value are kept (the union over
the columns, in row order). M4 over the overview (``ui.downsample``) then keeps what M4 over
the chunk keeps whenever a pixel spans a bucket or more, and always the chunk's extremes, first
and last values. The footer says how many rows the chunk has, the bucket and how many finite
values each numeric column has in the chunk (``gittrack.overview``, JSON): a chart's count
without reading the chunk.

Written by the checkpoint thread with the chunk (``compaction.Compactor``), only for a chunk
of at least ``MIN_BUCKETS`` buckets whose overview keeps at most 1/``SHARE`` of its rows (a
wide run of thousands of keys gets none rather than doubling its bytes).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gittrack.errors import FormatError
from gittrack.formats import arrow, table

if TYPE_CHECKING:
    import pyarrow as pa

BUCKET = 256
"""Rows per bucket: an overview has at most 4 rows per bucket and column."""
MIN_BUCKETS = 16
"""A chunk of fewer rows than this many buckets gets no overview (reading it whole is cheap)."""
SHARE = 8
"""An overview keeps at most 1/SHARE of its chunk's rows, or is not written."""
KEY = "gittrack.overview"
"""The footer key of an overview's facts (JSON: ``rows``, ``bucket``, ``counts``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Overview:
    """An overview read back: its Parquet bytes and what its footer says of its chunk."""

    data: bytes
    rows: int
    """The rows of the chunk."""
    bucket: int
    counts: dict[str, int]
    """Each numeric column's finite values in the chunk."""

    def read(self, columns: Sequence[str], *, what: str) -> pa.Table:
        """The overview's rows with only those of ``columns`` it has (the others not decoded)."""
        return table.read_chunk(self.data, what=what, columns=columns)


def make(part: pa.Table, bucket: int | None = None) -> bytes | None:
    """The overview of the chunk ``part`` as Parquet bytes, or None when it gets none (fewer
    than ``MIN_BUCKETS`` buckets, or an overview of more than 1/``SHARE`` of its rows).
    Numpy over each numeric column once (a reshape to buckets, then argmin/argmax)."""
    import numpy as np
    import pyarrow as pa

    bucket = BUCKET if bucket is None else bucket
    n = part.num_rows
    if n < MIN_BUCKETS * bucket:
        return None
    limit = n // SHARE
    full = n // bucket  # whole buckets; the rows after them make one more, shorter
    edge = full * bucket
    base = np.arange(full, dtype=np.int64) * bucket
    keep = np.zeros(n, dtype=bool)
    counts: dict[str, int] = {}
    for index, name in enumerate(part.column_names):
        values = arrow.floats(part.column(index))
        if values is None:
            continue
        finite = np.isfinite(values)
        counts[name] = count = int(np.count_nonzero(finite))
        if count == 0:
            continue
        grid = values[:edge].reshape(full, bucket)
        if count == n:  # every value finite (the usual column): no masks to apply
            keep[base] = keep[base + bucket - 1] = True
            keep[base + grid.argmin(axis=1)] = keep[base + grid.argmax(axis=1)] = True
        else:
            ok = finite[:edge].reshape(full, bucket)
            has = ok.any(axis=1)
            for at in (ok.argmax(axis=1), bucket - 1 - ok[:, ::-1].argmax(axis=1),
                       np.where(ok, grid, np.inf).argmin(axis=1),
                       np.where(ok, grid, -np.inf).argmax(axis=1)):
                keep[(base + at)[has]] = True
        tail = np.flatnonzero(finite[edge:]) + edge
        if tail.size:
            found = values[tail]
            keep[[tail[0], tail[-1], tail[found.argmin()], tail[found.argmax()]]] = True
        if np.count_nonzero(keep) > limit:
            return None
    rows = np.flatnonzero(keep).astype(np.int64)
    facts = {"rows": n, "bucket": bucket, "counts": counts}
    # from the buffer: pa.array(numpy) imports pandas (0.2 s in a training process)
    taken = pa.Array.from_buffers(pa.int64(), rows.size, [None, pa.py_buffer(rows)])
    return table.encode(part.take(taken), metadata={KEY: json.dumps(facts)})


def parse(data: bytes, *, what: str) -> Overview:
    """An overview's bytes read back; ``FormatError`` naming ``what`` when its footer lacks
    the facts or they are not what ``make`` writes."""
    raw = table.chunk_metadata(data, what=what).get(KEY)
    try:
        facts: Any = json.loads(raw) if raw is not None else None
        rows, bucket, counts = facts["rows"], facts["bucket"], facts["counts"]
        ok = (_count(rows) and _count(bucket) and bucket > 0 and isinstance(counts, dict)
              and all(isinstance(k, str) and _count(v) and v <= rows
                      for k, v in counts.items()))
    except (ValueError, TypeError, KeyError, RecursionError):  # forged: nested too deep too
        ok = False
    if not ok:
        raise FormatError(f"{what} is not an overview: its footer lacks {KEY} "
                          "(rows, bucket, counts)")
    return Overview(data, rows, bucket, dict(counts))


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
