"""Progress of a batch of transfers: counted here, shown by whoever registered to show it.

The storage counts finished files and their bytes (the blob store and age stream whole files
without callbacks) and draws nothing: ``report_to`` installs the ``Reporter`` that turns a
batch into something a user sees. ``import gittrack`` installs a rich bar on stderr
(``gittrack.api.progress``), so a command and a training script that downloads an artifact
see the same; with no reporter, batches are silent.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol


class Batch(Protocol):
    """One batch of transfers as it goes: told of each finished file. Thread-safe."""

    def __enter__(self) -> Batch: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def advance(self, nbytes: int) -> None:
        """One more file finished, of ``nbytes`` bytes."""
        ...


Reporter = Callable[[str, int, int], Batch]
"""``reporter(label, files, nbytes)``: a batch of ``files`` transfers, ``nbytes`` in all."""


class Silent:
    """A batch nobody sees."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def advance(self, nbytes: int) -> None:
        return None


def _silent(label: str, files: int, nbytes: int) -> Batch:
    return Silent()


_reporter: Reporter = _silent


def report_to(reporter: Reporter | None) -> None:
    """Show every batch from now on with ``reporter`` (``None``: show nothing)."""
    global _reporter
    _reporter = reporter or _silent


def batch(label: str, files: int, nbytes: int) -> Batch:
    """A batch of ``files`` transfers (``nbytes`` in all), shown by the installed reporter."""
    return _reporter(label, files, nbytes)
