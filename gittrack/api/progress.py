"""Progress of a batch of transfers: a rich bar on stderr, only when it is worth showing.

The storage counts (``gittrack.storage.progress``); this draws, for every caller: ``import
gittrack`` installs ``rich_bar`` as the storage's reporter, so ``gittrack artifact get`` and a
training script's ``ArtifactVersion.download()`` show the same bar. It appears once a batch
has run for a second (a quick put prints nothing) and only on a terminal, unless
``GITTRACK_PROGRESS=1`` forces it (``=0`` turns it off). Progress is counted per finished
file: the blob store and age stream whole files without callbacks.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

DELAY_SECONDS = 1.0


def progress_enabled() -> bool:
    forced = os.environ.get("GITTRACK_PROGRESS", "")
    if forced:
        return forced not in ("0", "false", "no")
    return sys.stderr.isatty()


class Transfer:
    """Counts the files and bytes of one batch; thread-safe."""

    def __init__(self, label: str, files: int, nbytes: int, *, enabled: bool | None = None,
                 delay: float = DELAY_SECONDS) -> None:
        self.label = label
        self.files = files
        self.nbytes = nbytes
        self.done_files = 0
        self.done_bytes = 0
        self._enabled = progress_enabled() if enabled is None else enabled
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._timer = threading.Timer(delay, self._start)
        self._timer.daemon = True

    def __enter__(self) -> Transfer:
        if self._enabled and self.files:
            self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._timer.cancel()
        with self._lock:
            if self._progress is not None:
                self._refresh()
                self._progress.stop()
                self._progress = None

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self.done_files += 1
            self.done_bytes += nbytes
            if self._progress is not None:
                self._refresh()

    @property
    def shown(self) -> bool:
        return self._progress is not None

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        with self._lock:
            if self.done_files >= self.files:
                return
            progress = Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._task = progress.add_task(self._description(), total=max(self.nbytes, 1))
            self._progress = progress
            self._refresh()
            progress.start()

    def _description(self) -> str:
        return f"{self.label} {self.done_files}/{self.files} files"

    def _refresh(self) -> None:
        assert self._progress is not None and self._task is not None
        self._progress.update(self._task, completed=self.done_bytes,
                              description=self._description())


def rich_bar(label: str, files: int, nbytes: int) -> Transfer:
    """The storage's ``Reporter``: a bar for one batch."""
    return Transfer(label, files, nbytes)
