"""The in-memory columnar buffer of steps not yet checkpointed."""

from __future__ import annotations

from typing import Any


class HistoryBuffer:
    """Rows appended as columns; a key first seen at row n gets n leading ``None``s.

    Columns are padded lazily (at the next append to them, and in ``take``), so a row costs
    one list append per key it has, whatever the number of keys in the run.
    """

    __slots__ = ("columns", "rows", "runtimes", "steps", "timestamps")

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.timestamps: list[float] = []
        self.runtimes: list[float] = []
        self.columns: dict[str, list[Any]] = {}
        self.rows = 0

    def append(self, step: int, timestamp: float, runtime: float, values: dict[str, Any]) -> None:
        n = self.rows
        columns = self.columns
        for key, value in values.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * n
            elif len(column) < n:
                column.extend([None] * (n - len(column)))
            column.append(value)
        self.steps.append(step)
        self.timestamps.append(timestamp)
        self.runtimes.append(runtime)
        self.rows = n + 1

    def take(self) -> HistoryBuffer:
        """Hand over everything buffered (columns padded to full length) and start empty."""
        taken = HistoryBuffer()
        taken.steps, taken.timestamps, taken.runtimes = self.steps, self.timestamps, self.runtimes
        taken.columns, taken.rows = self.columns, self.rows
        for column in taken.columns.values():
            if len(column) < taken.rows:
                column.extend([None] * (taken.rows - len(column)))
        self.__init__()  # type: ignore[misc]
        return taken
