"""``gittrack.Table``: rows of cells (numbers, strings, bools, None, media), stored as Parquet.

Each column has one type, found from its cells: "int", "float" (ints and floats mixed),
"bool", "string", "null" (no value yet), a media kind ("image", "audio", "video"...), or
"mixed" (only with ``allow_mixed_types=True``: each cell stored as JSON text). A media cell is
stored as its own item of the same entry, logged before the table; the table's column holds
its item number, counted from the first media item of the table (``docs/format.md``, "Media").
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats import arrow
from gittrack.formats import table as parquet
from gittrack.formats.media.base import Encoded, Media, Payload, Stored, register
from gittrack.formats.values import text_problem

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

KIND: Final = "table"
PLAIN_TYPES: Final = ("int", "float", "bool", "string", "null", "mixed")
_INT64: Final = 1 << 63
DEFAULT_COLUMNS: Final = ("Input", "Output", "Expected")
"""W&B's columns of a table made without columns or data."""


class MediaRef:
    """A media cell of a table read back whose item has not been put in its place (see
    ``Table.resolve``): ``item`` counts from the table's first media item."""

    __slots__ = ("item", "kind")

    def __init__(self, item: int, kind: str) -> None:
        self.item, self.kind = item, kind

    def __repr__(self) -> str:
        return f"MediaRef(item={self.item}, kind={self.kind!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MediaRef) and (other.item, other.kind) == (self.item, self.kind)

    def __hash__(self) -> int:
        return hash((self.item, self.kind))


class Table(Media):
    """A table to log, as ``wandb.Table``::

        table = gittrack.Table(columns=["id", "prediction", "image"])
        table.add_data(0, "cat", gittrack.Image(pixels))
        run.log({"predictions": table})

    ``data`` (or ``rows``): a list of rows, or a 2-D numpy array; ``dataframe``: a pandas
    DataFrame. Cells are numbers, strings, bools, None or media (``Image``, ``Audio``,
    ``Video``...). Each column keeps one type unless ``allow_mixed_types=True``.
    """

    kind = KIND

    def __init__(self, columns: Sequence[Any] | None = None, data: Any = None,
                 rows: Any = None, dataframe: pd.DataFrame | None = None,
                 dtype: Any = None, optional: Any = True, allow_mixed_types: bool = False,
                 log_mode: str | None = None) -> None:
        # W&B's per-column type hints (types are found from the cells) and log_mode (each
        # log() stores the whole table as it is then): accepted, nothing to do here
        del dtype, optional, log_mode
        self.allow_mixed_types = allow_mixed_types
        self._media_count = 0
        if dataframe is None and hasattr(data, "itertuples"):  # Table(data=a DataFrame)
            dataframe, data = data, None
        if dataframe is not None:
            columns, data = _from_dataframe(dataframe)
        rows = data if data is not None else rows
        if rows is not None and hasattr(rows, "tolist") and getattr(rows, "ndim", 2) == 2:
            rows = rows.tolist()  # a 2-D numpy array
        rows = [] if rows is None else list(rows)
        if columns is None:
            columns = [f"Column_{i}" for i in range(len(rows[0]))] if rows \
                else list(DEFAULT_COLUMNS)
        self.columns: list[str] = _column_names(columns)
        self.data: list[list[Any]] = [_row_cells(row, i) for i, row in enumerate(rows)]
        self._types: dict[str, str] = dict.fromkeys(self.columns, "null")
        self._typed()

    # -- W&B's methods --------------------------------------------------------------------

    def add_data(self, *row: Any) -> None:
        """Append a row: one cell per column."""
        index = len(self.data)
        if len(row) != len(self.columns):
            raise InvalidValueError(
                f"Table row {index} has {len(row)} cells, expected {len(self.columns)} "
                f"(one per column: {', '.join(self.columns)})")
        cells = [_cell(c, f"row {index}, column {n!r}") for c, n in zip(row, self.columns,
                                                                          strict=True)]
        types = {n: self._merged(n, c, f"row {index}") for n, c in zip(self.columns, cells,
                                                                        strict=True)}
        self._types.update(types)
        self.data.append(cells)

    add_row = add_data

    def add_column(self, name: str, data: Sequence[Any], optional: bool = False) -> None:
        """Append a column of ``data`` (one cell per row)."""
        del optional
        (name,) = _column_names([*self.columns, name])[-1:]
        data = list(data)
        if len(data) != len(self.data) and (self.data or self.columns):
            raise InvalidValueError(f"Table column {name!r} has {len(data)} cells, expected "
                                    f"{len(self.data)} (one per row)")
        cells = [_cell(c, f"row {i}, column {name!r}") for i, c in enumerate(data)]
        self._types[name] = "null"
        self.columns.append(name)
        try:
            for i, cell in enumerate(cells):
                self._types[name] = self._merged(name, cell, f"row {i}")
        except InvalidValueError:
            self.columns.pop()
            del self._types[name]
            raise
        if self.data:
            for row, cell in zip(self.data, cells, strict=True):
                row.append(cell)
        else:
            self.data = [[cell] for cell in cells]

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The cells of column ``name`` (as a numpy array with ``convert_to="numpy"``)."""
        if name not in self.columns:
            raise InvalidValueError(f"Table has no column {name!r}; its columns: "
                                    f"{', '.join(self.columns)}")
        index = self.columns.index(name)
        cells = [row[index] for row in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.array(cells)
        return cells

    def get_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        yield from enumerate(self.data)

    @property
    def column_types(self) -> dict[str, str]:
        """Each column's type, as stored: int, float, bool, string, null, mixed, or a media
        kind."""
        return {n: self._types.get(n, "null") for n in self.columns}

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and self.columns == other.columns \
            and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list

    def __repr__(self) -> str:
        return f"Table(columns={self.columns!r}, rows={len(self.data)})"

    # -- media items ----------------------------------------------------------------------

    def resolve(self, items: Sequence[Any] | Mapping[int, Any]) -> Table:
        """Put the decoded media items of a table read back in their cells: ``items`` are
        the entry's items logged with it, from its first media item (``MediaRef.item``), as a
        list, or by item number (an image's annotations are no value of their own)."""
        found = items if isinstance(items, Mapping) else dict(enumerate(items))
        for row in self.data:
            for i, cell in enumerate(row):
                if isinstance(cell, MediaRef) and cell.item in found:
                    row[i] = found[cell.item]
        return self

    def _merged(self, name: str, cell: Any, where: str) -> str:
        return _merge(self._types.get(name, "null"), cell, name, where, self.allow_mixed_types)

    def payloads(self, key: str) -> list[Payload]:
        try:  # again: ``data`` may have been changed in place since add_data checked it
            _column_names(self.columns)
            cells_by_column = self._typed()
        except InvalidValueError as exc:
            raise InvalidValueError(f"cannot log {key!r}: {exc}") from None
        items: list[Payload] = []
        columns = [_arrow_column(key, name, self._types[name], cells, items)
                   for name, cells in zip(self.columns, cells_by_column, strict=True)]
        import pyarrow as pa

        stored = pa.Table.from_arrays(columns, names=self.columns) if columns \
            else pa.table({})
        if parquet.decoded_size(stored) > parquet.write_bound():
            raise InvalidValueError(
                f"cannot log {key!r}: the table takes {parquet.decoded_size(stored):,} bytes, "
                f"more than the {parquet.write_bound():,} a table may (split it)")
        data = parquet.encode(stored)
        spec = {"columns": list(self.columns), "types": self.column_types,
                "rows": len(self.data), "media_items": len(items)}
        return [*items, Payload(KIND, data, spec)]

    def _typed(self) -> list[list[Any]]:
        """Check every row and cell, find each column's type (``_types``), and keep the
        cells as stored (numpy scalars as Python values); the cells by column."""
        width = len(self.columns)
        for index, row in enumerate(self.data):
            if len(row) != width:
                raise InvalidValueError(
                    f"Table row {index} has {len(row)} cells, expected {width} (one per "
                    f"column: {', '.join(self.columns)})")
        by_column = [list(cells) for cells in zip(*self.data, strict=True)] if self.data \
            else [[] for _ in self.columns]
        changed = False
        for index, name in enumerate(self.columns):
            cells, self._types[name] = _typed_column(name, by_column[index],
                                                     self.allow_mixed_types)
            changed = changed or cells is not by_column[index]
            by_column[index] = cells
        if changed:
            self.data = [list(row) for row in zip(*by_column, strict=True)]
        return by_column


_PLAIN_KINDS: Final = {bool: "bool", int: "int", float: "float", str: "string"}


def _typed_column(name: str, cells: list[Any], mixed: bool) -> tuple[list[Any], str]:
    """The cells of column ``name`` as stored (the same list when nothing changes) and its
    type; ``InvalidValueError`` naming the row of the first cell that does not fit."""
    kinds = set(map(type, cells))
    kinds.discard(type(None))
    if kinds <= _PLAIN_KINDS.keys() and _ints_fit(cells, kinds) and _texts_fit(cells, kinds):
        found = {_PLAIN_KINDS[k] for k in kinds}
        if found == {"int", "float"}:
            return cells, "float"
        if len(found) <= 1:
            return cells, found.pop() if found else "null"
        if mixed:
            return cells, "mixed"
    known, out = "null", []  # cell by cell: numpy scalars, media, or the error to name
    for index, cell in enumerate(cells):
        cell = _cell(cell, f"row {index}, column {name!r}")
        known = _merge(known, cell, name, f"row {index}", mixed)
        out.append(cell)
    return out, known


def _texts_fit(cells: list[Any], kinds: set[type]) -> bool:
    """No string UTF-8 cannot store (checked only for the strings that are not ASCII)."""
    return str not in kinds or all(
        text_problem(c) is None for c in cells if type(c) is str and not c.isascii())


def _ints_fit(cells: list[Any], kinds: set[type]) -> bool:
    if int not in kinds:
        return True
    ints = [c for c in cells if type(c) is int]
    return min(ints) >= -_INT64 and max(ints) < _INT64


def _merge(known: str, cell: Any, name: str, where: str, mixed: bool) -> str:
    """The type of a column of type ``known`` once ``cell`` is added to it."""
    found = _type_of(cell)
    if found == "null" or known == found or known == "mixed":
        return known
    if known == "null":
        return found
    if {known, found} == {"int", "float"}:
        return "float"
    if mixed:
        return "mixed"
    raise InvalidValueError(
        f"Table column {name!r} holds {known} cells; {where} is {found} ({cell!r:.60}); "
        f"use Table(..., allow_mixed_types=True) to mix types")


def _from_dataframe(frame: Any) -> tuple[list[Any], list[list[Any]]]:
    columns = list(frame.columns)
    values = frame.astype(object).where(frame.notna(), None).values.tolist() \
        if len(frame) else []
    return columns, values


def _row_cells(row: Any, index: int) -> list[Any]:
    if isinstance(row, str | bytes) or not hasattr(row, "__iter__"):
        raise InvalidValueError(f"Table row {index} is {type(row).__name__}, expected a list "
                                f"of cells")
    return list(row)


def _column_names(columns: Sequence[Any]) -> list[str]:
    if isinstance(columns, str) or not hasattr(columns, "__iter__"):
        raise InvalidValueError(f"Table columns must be a list of names, got "
                                f"{type(columns).__name__}")
    names: list[str] = []
    for name in columns:
        if isinstance(name, numbers.Integral) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name.strip() or text_problem(name):
            raise InvalidValueError(f"Table column names must be non-empty strings UTF-8 "
                                    f"can store, got {name!r}")
        if name in names:
            raise InvalidValueError(f"Table column {name!r} appears twice; column names "
                                    f"must be unique")
        names.append(name)
    return names


def _cell(value: Any, where: str) -> Any:
    """``value`` as a table keeps it (numpy scalars as Python values), or the error."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise InvalidValueError(f"Table {where} {problem}")
        return value
    if value is None or isinstance(value, bool | Media):
        if isinstance(value, Media) and value.kind in (KIND, "chart"):
            raise InvalidValueError(f"Table {where}: a {value.kind} cannot be a cell")
        return value
    if isinstance(value, numbers.Integral):
        number = int(value)
        if not -_INT64 <= number < _INT64:
            raise InvalidValueError(f"Table {where}: {number} does not fit in 64 bits; "
                                    f"expected an integer within ±2**63 or a float")
        return number
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # numpy scalars: np.bool_, np.str_ ...
    if callable(item) and getattr(value, "ndim", None) == 0:
        return _cell(item(), where)
    raise InvalidValueError(
        f"Table {where} is {type(value).__name__}; expected a number, string, bool, None "
        f"or media (Image, Audio, Video, Html...)")


def _type_of(cell: Any) -> str:
    if cell is None:
        return "null"
    if isinstance(cell, bool):
        return "bool"
    if isinstance(cell, int):
        return "int"
    if isinstance(cell, float):
        return "float"
    if isinstance(cell, str):
        return "string"
    return str(cell.kind)


def _arrow_column(key: str, name: str, kind: str, cells: list[Any],
                  items: list[Payload]) -> pa.Array:
    """The stored column; media cells' payloads appended to ``items``."""
    import pyarrow as pa

    if kind in ("int", "float", "bool"):
        return arrow.numeric(cells, kind)
    if kind == "string":
        return arrow.strings(cells)
    if kind == "null":
        return pa.nulls(len(cells))
    refs: list[Any] = []
    for cell in cells:
        if isinstance(cell, Media):
            refs.append(len(items))
            items.extend(cell.payloads(f"{key}/{name}"))
        else:
            refs.append(cell)
    if kind == "mixed":
        return arrow.strings([None if c is None else _json_cell(c, r)
                              for c, r in zip(cells, refs, strict=True)])
    return arrow.numeric(refs, "int")


def _json_cell(cell: Any, ref: Any) -> str:
    if isinstance(cell, Media):
        return json.dumps({"item": ref, "kind": cell.kind})
    if isinstance(cell, float) and not math.isfinite(cell):
        return json.dumps({"float": repr(cell)})
    return json.dumps(cell)


def _from_json(text: str | None) -> Any:
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, dict):
        return MediaRef(int(value["item"]), str(value["kind"])) if "item" in value \
            else float(value["float"])
    return value


def encode_table(payload: Payload) -> Encoded:
    spec = payload.spec
    meta = {"columns": list(spec["columns"]), "types": dict(spec["types"]),
            "media_items": int(spec.get("media_items", 0))}
    return Encoded(bytes(payload.raw), "parquet", None, None, int(spec["rows"]), None, meta)


def read_table(data: bytes, meta: Any, *, what: str = "table") -> Table:
    """The ``Table`` a Parquet blob and its index row's meta stand for; ``FormatError``
    naming ``what`` for a blob (or meta) that is not one gittrack writes."""
    stored = parquet.read_parquet(data, what=what)
    try:
        return _table_of(stored, meta if isinstance(meta, Mapping) else {})
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # forged: see below
        # (a column named twice or empty, a media cell that is not a number, a mixed cell
        # that is not JSON: what gittrack never writes, so a blob from elsewhere)
        raise FormatError(f"cannot read {what}: {type(exc).__name__}: {exc}"[:500]) from None


def _table_of(stored: pa.Table, meta: Mapping[str, Any]) -> Table:
    columns = [str(c) for c in meta.get("columns", stored.column_names)]
    types = meta.get("types") or {}
    table = Table(columns=columns, allow_mixed_types=True)
    values = []
    for name in columns:
        cells = stored.column(name).to_pylist() if name in stored.column_names \
            else [None] * stored.num_rows
        kind = str(types.get(name, "null"))
        if kind == "mixed":
            cells = [_from_json(c) for c in cells]
        elif kind not in PLAIN_TYPES:
            cells = [None if c is None else MediaRef(int(c), kind) for c in cells]
        values.append(cells)
    table.data = [list(row) for row in zip(*values, strict=True)] if values else []
    table._types = {n: str(types.get(n, "null")) for n in columns}
    table.allow_mixed_types = "mixed" in table._types.values()
    table._media_count = int(meta.get("media_items", 0))
    return table


def gather(values: list[Any]) -> list[Any]:
    """The values of one media entry read back (its items, in order) as they were logged: an
    image's annotations put on it, and the media items of each table (or chart) put in its
    cells, each taken out of the list."""
    from gittrack.formats.media.image import fold_annotations

    out: list[tuple[int, Any]] = []  # (the item's position in the entry, its value)
    for position, value in fold_annotations(values):
        table = value if isinstance(value, Table) else getattr(value, "table", None)
        count = table._media_count if isinstance(table, Table) else 0
        start = position - count
        if isinstance(table, Table) and count and start >= 0:
            table.resolve({p - start: v for p, v in out if p >= start})
            out = [(p, v) for p, v in out if p < start]
        out.append((position, value))
    return [value for _, value in out]


def decode_table(data: bytes, stored: Stored) -> Table:
    return read_table(data, stored.meta)


register(KIND, encode_table, decode_table)

__all__ = ["MediaRef", "Table", "decode_table", "encode_table", "gather", "read_table"]
