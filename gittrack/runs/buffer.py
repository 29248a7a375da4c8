"""The in-memory buffer of steps not yet checkpointed."""

from __future__ import annotations

import itertools
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
        keys = dict.fromkeys(itertools.chain.from_iterable(rows))
        return {key: [row.get(key) for row in rows] for key in keys}
