"""Byte-count progress for transfers, the same on every backend.

fsspec backends differ: s3fs and the generic ``put_file`` report through a ``Callback``, the
local filesystem copies with ``sendfile`` and reports nothing. ``Progress`` turns whatever a
backend reports into increments, and ``finish`` reports the rest, so the increments a caller
receives always add up to the blob's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsspec.callbacks import Callback

ProgressFn = Callable[[int], None]
"""Called with the number of bytes transferred since the last call."""


class Progress(Callback):  # type: ignore[misc]  # fsspec is untyped
    def __init__(self, fn: ProgressFn | None) -> None:
        super().__init__()
        self._fn = fn
        self._reported = 0

    def call(self, *args: Any, **kwargs: Any) -> None:
        self._report(int(self.value or 0))

    def finish(self, size: int) -> None:
        self._report(size)

    def _report(self, done: int) -> None:
        delta = done - self._reported
        if delta > 0 and self._fn is not None:
            self._reported = done
            self._fn(delta)
