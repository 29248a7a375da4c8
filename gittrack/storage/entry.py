"""A stored file: its name, the sha256 of its plaintext, its size and where its bytes are (a
blob of the store, or an external object recorded by reference).

An artifact version lists these in ``manifest.parquet`` (``gittrack.artifacts.manifest``);
the storage reads and writes files by them. Names are relative, ``/``-separated and never go
up (``check_entry_path``), so a download cannot write outside its folder.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from gittrack.blobs.names import is_digest
from gittrack.errors import StorageError, UsageError
from gittrack.formats.values import text_problem
from gittrack.types import BlobName, Checksum, Digest

_MAX_PATH = 4096
# an empty, "." or ".." part; \A and \Z, not ^ and $, which would match before a final "\n"
_BAD_PART = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)")


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One stored file: a row of an artifact version's manifest. A file in the store (``blob``
    set) and a local reference (``file://``) have the ``Digest`` of their content; a remote
    reference has its store's ``Checksum`` instead (its bytes were not read)."""

    path: str
    digest: Digest | Checksum
    size: int
    blob: BlobName | None = None
    ref: str | None = None

    @property
    def sha256(self) -> Digest | None:
        """The content's digest; ``None`` for a remote reference (a ``Checksum``)."""
        return self.digest if is_digest(self.digest) else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def stored(entry: ManifestEntry) -> tuple[BlobName, Digest]:
    """A stored file's blob name and content digest (a manifest naming a blob has a sha256
    digest: its reader refuses any other); ``StorageError`` for a reference."""
    digest = entry.sha256
    if entry.blob is None:
        raise StorageError(f"file {entry.path} is recorded by reference: it has no blob")
    if digest is None:
        raise StorageError(f"file {entry.path}: digest {entry.digest!r} is not a sha256")
    return entry.blob, digest


def check_entry_path(name: object, *, what: str = "file name") -> str:
    """A relative, ``/``-separated name that stays inside the artifact's folder, or UsageError.

    The same rule guards writing (``add_file(name=...)``) and reading (a manifest edited by
    hand must not make ``download()`` write outside its root).
    """
    if not isinstance(name, str) or not name:
        raise UsageError(f"{what} must be a non-empty string, got {name!r}")
    problem = None
    if name.startswith("/") or name.endswith("/"):
        problem = "must not start or end with '/'"
    elif "\\" in name or "\0" in name:
        problem = "must not contain a backslash or a NUL character"
    elif _BAD_PART.search(name):
        problem = "must not contain empty, '.' or '..' parts"
    elif len(name) > _MAX_PATH:
        problem = f"is longer than {_MAX_PATH} characters"
    elif not is_utf8(name):
        problem = ("is not valid UTF-8 (a name read from a file system in another encoding): "
                   "rename the file, or give it a name=")
    if problem:
        raise UsageError(f"{what} {name!r} {problem}: use a relative path like 'data/train.csv'")
    return name


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be stored (Parquet and YAML hold UTF-8): no lone surrogate, as
    ``os.listdir`` gives for a byte that is not UTF-8 in a file name."""
    return text_problem(text) is None
