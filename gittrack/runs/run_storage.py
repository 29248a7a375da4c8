"""The project's blob store as one run uses it: media, console output and saved code.

Opened once per run, on first use (a run that logs only scalars never opens it, nor asks for
keys), and shared by the threads that store blobs (the checkpoint thread, ``init()``)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from gittrack.git.repo import Repository, reopen

if TYPE_CHECKING:
    from gittrack.storage.entry import ManifestEntry
    from gittrack.storage.vault import BlobVault


class RunStorage:
    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._vault: BlobVault | None = None
        self._lock = threading.Lock()

    @property
    def vault(self) -> BlobVault:
        """The store as configured (``open_storage``); a private project's keys are unlocked
        on the first blob stored, with the user's identities."""
        with self._lock:
            if self._vault is None:
                from gittrack.storage.project import open_storage

                self._vault = open_storage(reopen(self._repo))
            return self._vault

    def keep(self, path: Path, name: str, *, what: str = "media") -> ManifestEntry:
        """Store the file at ``path`` as the stored file ``name`` (``BlobVault.keep``)."""
        return self.vault.keep(path, name, what=what)

    def keep_bytes(self, data: bytes, name: str, *, what: str = "media") -> ManifestEntry:
        """Store ``data`` as the stored file ``name``, through a temporary file."""
        vault = self.vault
        with vault.temp_file() as temp:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            return vault.keep(temp, name, what=what)
