"""The in-memory buffer of steps not yet checkpointed."""

from __future__ import annotations

import itertools
import operator
from typing import Any

Row = tuple[Any, ...]  # (step, time, keys, *values): keys a tuple, one value per key
_VALUES = 3  # where a row's values start


class HistoryBuffer:
    """Rows kept as ``(step, time, keys, *values)``; turned into columns only at a checkpoint.

    Appending a row is one tuple whatever the number of keys: ``log()`` runs in the hot loop
    of training, while the columnar conversion runs on the checkpoint thread. A row is a tuple,
    not the dict ``log()`` was given: a tuple of numbers and strings leaves the garbage
    collector's lists at its next (youngest) pass, while a dict is untracked only by a full
    collection, so 20,000 buffered dicts made the collector walk the whole heap every 23,000
    steps or so (60 ms each time here); and one tuple per row, not two, halves its young
    passes. Rows with the same keys, in the same order, share one keys tuple (``_keys``), which
    also tells ``columns`` whether every row has the same keys.
    """

    __slots__ = ("_keys", "entries")

    def __init__(self) -> None:
        self.entries: list[Row] = []
        self._keys: dict[tuple[str, ...], tuple[str, ...]] = {}  # the key tuples of entries

    @property
    def rows(self) -> int:
        return len(self.entries)

    def append(self, step: int, timestamp: float, values: dict[str, Any]) -> None:
        keys = tuple(values)
        self.entries.append((step, timestamp, self._keys.setdefault(keys, keys),
                             *values.values()))

    def take(self) -> HistoryBuffer:
        """Hand over everything buffered and start empty."""
        taken = HistoryBuffer()
        taken.entries, self.entries = self.entries, []
        taken._keys, self._keys = self._keys, {}
        return taken

    def steps(self) -> list[int]:
        return [e[0] for e in self.entries]

    def timestamps(self) -> list[float]:
        return [e[1] for e in self.entries]

    def values(self) -> list[dict[str, Any]]:
        """Each row's values as a dict (tests, and readers of a few rows)."""
        return [dict(zip(e[2], e[_VALUES:], strict=True)) for e in self.entries]

    def columns(self) -> dict[str, list[Any]]:
        """One list per key (in order of first appearance), ``None`` where a row lacks it."""
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
