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


class HistoryBuffer:
    """Steps logged since the last checkpoint; turned into columns only at a checkpoint.

    The common rows (every value a ``float``) go to a *float block*: the steps and times in
    two flat arrays, and the values' dict as ``log()`` made it (the normalizer's copy,
    untracked by the garbage collector: floats only), a list append each. The checkpoint
    thread turns the block into numpy columns in C (``float_block``), once it checked that
    every row has the same keys. On 2 cores that thread's work under the GIL is paid by the
    training loop: building columns from Python rows cost it about 1 µs per step
    (docs/decisions.md, "The hot path: a float block").

    Any other row (an int, a bool, a string) turns the block into rows, and every row after
    it until the checkpoint takes the buffer is kept as a tuple ``(step, time, keys,
    *values)``: a tuple of numbers and strings leaves the garbage collector's lists at its
    next (youngest) pass. Rows with the same keys, in the same order, share one keys tuple
    (``_keys``), which also tells ``columns`` whether every row has the same keys.
    """

    __slots__ = ("_dicts", "_keys", "_steps", "_times", "entries", "rows")

    def __init__(self) -> None:
        self.entries: list[Row] = []
        self._keys: dict[tuple[str, ...], tuple[str, ...]] = {}  # the key tuples of entries
        self._steps = array("q")  # the float block: steps, times, and values by row
        self._times = array("d")
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
        else:
            if self._dicts:
                self._spill()
            keys = tuple(values)
            self.entries.append((step, timestamp, self._keys.setdefault(keys, keys),
                                 *values.values()))
        self.rows += 1

    def _spill(self) -> None:
        """Turn the float block into rows (in order: every row after it is one)."""
        intern = self._keys.setdefault
        self.entries = [(step, t, intern(keys := tuple(values), keys), *values.values())
                        for step, t, values in zip(self._steps, self._times, self._dicts,
                                                   strict=True)] + self.entries
        self._steps, self._times, self._dicts = array("q"), array("d"), []

    def take(self) -> HistoryBuffer:
        """Hand over everything buffered and start empty."""
        taken = HistoryBuffer()
        taken.entries, self.entries = self.entries, []
        taken._keys, self._keys = self._keys, {}
        taken._steps, self._steps = self._steps, array("q")
        taken._times, self._times = self._times, array("d")
        taken._dicts, self._dicts = self._dicts, []
        taken.rows, self.rows = self.rows, 0
        return taken

    def float_block(self) -> tuple[list[str], np.ndarray, np.ndarray, list[np.ndarray]] | None:
        """``(keys, steps, times, columns)`` when every row is in the float block with the
        same keys: int64 and float64 arrays of the steps and times, and a float64 array per
        key, built in C. ``None`` otherwise (``columns`` then). For a buffer taken by a
        checkpoint: the arrays share its memory."""
        dicts = self._dicts
        if self.entries or not dicts:
            return None
        import numpy as np

        keys = list(dicts[0])
        width = len(keys)
        if any(map(width.__ne__, map(len, dicts))):
            return None
        n = len(dicts)
        try:  # a dict without one of the keys: KeyError (same sizes: then the same keys)
            columns = [np.fromiter(map(operator.itemgetter(key), dicts), np.float64, n)
                       for key in keys]
        except KeyError:
            return None
        return (keys, np.frombuffer(self._steps, dtype=np.int64),
                np.frombuffer(self._times, dtype=np.float64), columns)

    def _rows(self) -> list[Row]:
        """Every row as a tuple (the float block's converted)."""
        if not self._dicts:
            return self.entries
        copy = HistoryBuffer()
        copy._steps, copy._times, copy._dicts = self._steps, self._times, self._dicts
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
        if self._dicts:
            copy = HistoryBuffer()
            copy._steps, copy._times, copy._dicts = self._steps, self._times, self._dicts
            copy._spill()
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
