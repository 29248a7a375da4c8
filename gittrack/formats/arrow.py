"""Arrow arrays built from Python lists through numpy buffers.

``pa.array(list)`` imports pandas whenever it is installed (about 46 MB of memory and 0.3 s in
the process of a training script that never asked for it); ``Array.from_buffers`` does not,
and the numpy conversions below run in C. Lists hold ``None`` for missing values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def _validity(objects: np.ndarray) -> tuple[np.ndarray, pa.Buffer | None]:
    import numpy as np
    import pyarrow as pa

    valid: np.ndarray = np.not_equal(objects, None)  # type: ignore[call-overload]
    if bool(valid.all()):
        return valid, None
    return valid, pa.py_buffer(np.packbits(valid, bitorder="little"))


def numeric(values: Sequence[Any], kind: str) -> pa.Array:
    """``kind`` is "float", "int" or "bool"; values of other numeric types are converted."""
    import numpy as np
    import pyarrow as pa

    objects = np.array(values, dtype=object)
    valid, bitmap = _validity(objects)
    if bitmap is not None:
        objects[~valid] = 0
    n = len(values)
    if kind == "bool":
        data = np.packbits(objects.astype(bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [bitmap, pa.py_buffer(data)])
    dtype, arrow_type = (np.int64, pa.int64()) if kind == "int" else (np.float64, pa.float64())
    data = objects.astype(dtype)
    return pa.Array.from_buffers(arrow_type, n, [bitmap, pa.py_buffer(data)])


def strings(values: Sequence[str | None]) -> pa.Array:
    import numpy as np
    import pyarrow as pa

    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    _, bitmap = _validity(np.array(values, dtype=object))
    blob = pa.py_buffer(b"".join(encoded))
    # Built as string (32-bit offsets) when it fits, not cast from large_string: the first
    # cast in a process imports pyarrow.compute, 0.15 s here.
    if offsets[-1] < 1 << 31:
        narrow = pa.py_buffer(offsets.astype(np.int32))
        return pa.Array.from_buffers(pa.string(), len(encoded), [bitmap, narrow, blob])
    return pa.Array.from_buffers(
        pa.large_string(), len(encoded), [bitmap, pa.py_buffer(offsets), blob]
    ).cast(pa.string())


def float_lists(lists: Sequence[Sequence[float]]) -> pa.Array:
    """A ``list<double>`` array (histogram edges and counts); no nulls."""
    import numpy as np
    import pyarrow as pa

    lengths = np.fromiter(map(len, lists), dtype=np.int32, count=len(lists))
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter((x for row in lists for x in row), dtype=np.float64,
                       count=int(offsets[-1]))
    inner = pa.Array.from_buffers(pa.float64(), len(flat), [None, pa.py_buffer(flat)])
    return pa.ListArray.from_arrays(
        pa.Array.from_buffers(pa.int32(), len(offsets), [None, pa.py_buffer(offsets)]), inner
    )


def column(values: Sequence[Any]) -> pa.Array:
    """An array of the narrowest type holding ``values`` (bool < int64 < double; strings)."""
    import pyarrow as pa

    kinds = set(map(type, values))
    if kinds == {float}:  # the common column (floats at every row): converted in one C pass
        import numpy as np

        data = np.array(values, dtype=np.float64)
        return pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(data)])
    kinds.discard(type(None))
    if not kinds:  # typeless, so it widens to whatever the key holds in other chunks
        return pa.nulls(len(values))
    if kinds <= {str}:
        return strings(values)
    if str in kinds:  # a number among strings cannot come from log(); keep both as text
        return strings([None if v is None else str(v) for v in values])
    if float in kinds:
        return numeric(values, "float")
    if kinds <= {bool}:
        return numeric(values, "bool")
    return numeric(values, "int")


_PLAIN = {kind: kind for kind in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                                  "uint32", "uint64", "float", "double")}
_PLAIN.update(float="float32", double="float64")
"""Arrow's names of the number types whose values buffer numpy reads as is, with numpy's."""


def floats(column: pa.ChunkedArray | pa.Array, steps: bool = False) -> np.ndarray | None:
    """The column as float64 with nulls as NaN, or None when it is not numeric (numbers,
    booleans, decimals, or a column of nulls). ``steps`` (an x axis): a signed integer column
    without nulls stays int64 (no float copy).

    Read from Arrow's buffers, chunk by chunk, and joined in one copy: ``to_numpy`` imports
    pandas (0.2-0.3 s on the first chart a server draws; a checkpoint thread need not)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    parts = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    plain = _PLAIN.get(str(kind))
    if plain is None and not pa.types.is_boolean(kind):
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_decimal(kind)):
            return None
        return floats(pc.cast(column, pa.float64()))  # half floats, decimals
    if plain is not None and column.null_count == 0:
        dtype = np.dtype(plain)
        arrays = [np.frombuffer(part.buffers()[1], dtype=dtype, count=len(part),
                                offset=part.offset * dtype.itemsize)
                  for part in parts if len(part)]
        values = arrays[0] if len(arrays) == 1 else np.concatenate(arrays) if arrays \
            else np.empty(0, dtype=dtype)
        if steps and pa.types.is_signed_integer(kind):
            return values.astype(np.int64, copy=False)
        return values.astype(np.float64, copy=False)
    out = []
    for part in parts:
        n = len(part)
        if not n:
            continue
        buffers = part.buffers()
        if plain is None:  # booleans: a bitmap
            values = _bits(buffers[1], part.offset, n).astype(np.float64)
        else:
            dtype = np.dtype(plain)
            values = np.frombuffer(buffers[1], dtype=dtype, count=n,
                                   offset=part.offset * dtype.itemsize).astype(np.float64)
        if part.null_count and buffers[0] is not None:
            values[~_bits(buffers[0], part.offset, n)] = np.nan
        out.append(values)
    return np.concatenate(out) if out else np.empty(0, dtype=np.float64)


def _bits(buffer: pa.Buffer, offset: int, count: int) -> np.ndarray:
    """``count`` bits of an Arrow bitmap from bit ``offset``, as booleans."""
    import numpy as np

    bits = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), count=offset + count,
                         bitorder="little")
    return bits[offset:].astype(bool)
