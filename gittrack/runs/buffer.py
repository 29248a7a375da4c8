"""The in-memory buffer of steps not yet checkpointed."""

from __future__ import annotations

import itertools
import operator
from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Row = tuple[Any, ...]  # (step, time, keys, *values): keys a tuple, one value per key
_VALUES = 3  # where a row's values start
COMPACT_ROWS = 4096
"""Rows of the float block kept as dicts before they become arrays (``HistoryBuffer``)."""


class HistoryBuffer:
    """Steps logged since the last checkpoint; turned into columns only at a checkpoint.

    The common rows (every value a ``float``) go to a *float block*: the steps and times in
    two flat arrays, and the values' dict as ``log()`` made it (the normalizer's copy,
    untracked by the garbage collector: floats only), a list append each. Every
    ``COMPACT_ROWS`` rows those dicts become one numpy array per key, built in C once the
    rows are checked to have the same keys, and are dropped: a buffered row then takes 8
    bytes per value, not a dict and its floats (about 500 bytes for ten), and the
    checkpoint thread, whose work under the GIL the training loop pays on 2 cores, only
    joins arrays (``float_block``; docs/decisions.md, "The hot path: a float block").

    Any other row (an int, a bool, a string, other keys) turns the block into rows, and every
    row after it until the checkpoint takes the buffer is kept as a tuple ``(step, time,
    keys, *values)``: a tuple of numbers and strings leaves the garbage collector's lists at
    its next (youngest) pass. Rows with the same keys, in the same order, share one keys
    tuple (``_keys``), which also tells ``columns`` whether every row has the same keys.
    """

    __slots__ = ("_block_keys", "_columns", "_dicts", "_keys", "_steps", "_times", "entries",
                 "rows")

    def __init__(self) -> None:
        self.entries: list[Row] = []
        self._keys: dict[tuple[str, ...], tuple[str, ...]] = {}  # the key tuples of entries
        # the float block: steps, times, values of its first rows as one array per key of
        # _block_keys (a list of parts each), of the rows after them as dicts
        self._steps = array("q")
        self._times = array("d")
        self._block_keys: tuple[str, ...] | None = None
        self._columns: list[list[np.ndarray]] = []
        self._dicts: list[dict[str, float]] = []
        self.rows = 0

    def append(self, step: int, timestamp: float, values: dict[str, Any],
               floats: bool = False) -> None:
        """One row; ``values`` becomes the buffer's own. ``floats``: the caller knows every
        value is a ``float`` (not a subclass, not a bool): the row may join the float block."""
        if floats and not self.entries:
            self._steps.append(step)
            self._times.append(timestamp)
            self._dicts.append(values)
            if len(self._dicts) >= COMPACT_ROWS:
                self._compact()
        else:
            if self._steps:
                self._spill()
            keys = tuple(values)
            self.entries.append((step, timestamp, self._keys.setdefault(keys, keys),
                                 *values.values()))
        self.rows += 1

    def _compact(self) -> bool:
        """Turn the block's dicts into arrays, or, if one has other keys than the block,
        the whole block into rows; whether the block holds its rows as arrays now."""
        import numpy as np

        dicts = self._dicts
        if self._block_keys is None:
            self._block_keys = tuple(dicts[0])
            self._columns = [[] for _ in self._block_keys]
        keys = self._block_keys
        width = len(keys)
        try:  # a dict without one of the keys: KeyError (same sizes: then the same keys)
            if any(map(width.__ne__, map(len, dicts))):
                raise KeyError
            parts = [np.fromiter(map(operator.itemgetter(key), dicts), np.float64, len(dicts))
                     for key in keys]
        except KeyError:
            self._spill()
            return False
        for column, part in zip(self._columns, parts, strict=True):
            column.append(part)
        self._dicts = []
        return True

    def _spill(self) -> None:
        """Turn the float block into rows (in order: every row after it is one)."""
        intern = self._keys.setdefault
        rows: list[dict[str, Any]] = []
        compacted = len(self._steps) - len(self._dicts)
        if compacted:
            import numpy as np

            keys = self._block_keys
            assert keys is not None
            lists = [np.concatenate(parts).tolist() for parts in self._columns]
            rows = ([dict(zip(keys, values, strict=True)) for values in zip(*lists, strict=True)]
                    if keys else [{} for _ in range(compacted)])
        rows += self._dicts
        self.entries = [(step, t, intern(keys := tuple(values), keys), *values.values())
                        for step, t, values in zip(self._steps, self._times, rows,
                                                   strict=True)] + self.entries
        self._steps, self._times, self._dicts = array("q"), array("d"), []
        self._block_keys, self._columns = None, []

    def take(self) -> HistoryBuffer:
        """Hand over everything buffered and start empty."""
        taken = HistoryBuffer()
        for name in HistoryBuffer.__slots__:
            setattr(taken, name, getattr(self, name))
        self.__init__()  # type: ignore[misc]
        return taken

    def float_block(self) -> tuple[list[str], np.ndarray, np.ndarray, list[np.ndarray]] | None:
        """``(keys, steps, times, columns)`` when every row is in the float block with the
        same keys: int64 and float64 arrays of the steps and times, and a float64 array per
        key. ``None`` otherwise (``columns`` then). For a buffer taken by a checkpoint (its
        arrays share the buffer's memory; its dicts become arrays)."""
        if self.entries or not self._steps or (self._dicts and not self._compact()):
            return None
        import numpy as np

        assert self._block_keys is not None
        columns = [parts[0] if len(parts) == 1 else np.concatenate(parts)
                   for parts in self._columns]
        return (list(self._block_keys), np.frombuffer(self._steps, dtype=np.int64),
                np.frombuffer(self._times, dtype=np.float64), columns)

    def _rows(self) -> list[Row]:
        """Every row as a tuple (the float block's converted)."""
        if not self._steps:
            return self.entries
        copy = HistoryBuffer()
        copy._steps, copy._times, copy._dicts = self._steps, self._times, list(self._dicts)
        copy._block_keys, copy._columns = self._block_keys, self._columns
        copy._spill()
        return copy.entries

    def steps(self) -> list[int]:
        return [e[0] for e in self._rows()]

    def timestamps(self) -> list[float]:
        return [e[1] for e in self._rows()]

    def values(self) -> list[dict[str, Any]]:
        """Each row's values as a dict (tests, and readers of a few rows)."""
        return [dict(zip(e[2], e[_VALUES:], strict=True)) for e in self._rows()]

    def columns(self) -> dict[str, list[Any]]:
        """One list per key (in order of first appearance), ``None`` where a row lacks it."""
        if self._steps:
            copy = HistoryBuffer()
            copy.entries = self._rows()
            for entry in copy.entries:
                copy._keys.setdefault(entry[2], entry[2])
            return copy.columns()
        entries = self.entries
        if len(self._keys) == 1:  # the common case, every row with the same keys: in C
            (keys,) = self._keys  # (a column at a time: zip(*rows) would make an iterator
            # per row, work for the garbage collector)
            return {key: list(map(operator.itemgetter(i), entries))
                    for i, key in enumerate(keys, _VALUES)}
        # the key tuples in order of their first row: their keys in order of first appearance
        names = dict.fromkeys(itertools.chain.from_iterable(self._keys))
        index = {key: i for i, key in enumerate(names)}
        columns: list[list[Any]] = [[None] * len(entries) for _ in names]
        for row, entry in enumerate(entries):
            for key, value in zip(entry[2], entry[_VALUES:], strict=True):
                columns[index[key]][row] = value
        return dict(zip(names, columns, strict=True))
