"""The in-memory buffer of steps not yet checkpointed."""

from __future__ import annotations

import itertools
import operator
from typing import Any


class HistoryBuffer:
    """Rows kept as ``(step, time, values)``; turned into columns only at a checkpoint.

    Appending a row is one list append, whatever the number of keys: ``log()`` runs in the
    hot loop of training, while the columnar conversion runs on the checkpoint thread.
    """

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[tuple[int, float, dict[str, Any]]] = []

    @property
    def rows(self) -> int:
        return len(self.entries)

    def append(self, step: int, timestamp: float, values: dict[str, Any]) -> None:
        self.entries.append((step, timestamp, values))

    def take(self) -> HistoryBuffer:
        """Hand over everything buffered and start empty."""
        taken = HistoryBuffer()
        taken.entries, self.entries = self.entries, []
        return taken

    def steps(self) -> list[int]:
        return [e[0] for e in self.entries]

    def timestamps(self) -> list[float]:
        return [e[1] for e in self.entries]

    def columns(self) -> dict[str, list[Any]]:
        """One list per key (in order of first appearance), ``None`` where a row lacks it."""
        rows = [e[2] for e in self.entries]
        same = _same_keys(rows)
        if same is not None:
            return same
        keys = dict.fromkeys(itertools.chain.from_iterable(rows))
        return {key: [row.get(key) for row in rows] for key in keys}


def _same_keys(rows: list[dict[str, Any]]) -> dict[str, list[Any]] | None:
    """The columns, transposed in C, when every row has the first row's keys (the common
    case: the same keys at every step); else ``None``. Rows of the first row's length that
    all hold its keys hold no other. One key is left to the general way: ``itemgetter`` of
    one key gives values, not tuples."""
    if not rows or len(rows[0]) < 2:
        return None
    keys = tuple(rows[0])
    if set(map(len, rows)) != {len(keys)}:
        return None
    try:
        table = list(map(operator.itemgetter(*keys), rows))
    except KeyError:  # a row lacks one of them
        return None
    return {key: list(column)
            for key, column in zip(keys, zip(*table, strict=True), strict=True)}
