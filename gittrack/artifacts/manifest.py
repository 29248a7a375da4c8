"""``manifest.parquet``: the files of one artifact version, one row per file.

| column | type   | meaning                                                              |
|--------|--------|----------------------------------------------------------------------|
| path   | string | the file's name inside the artifact (``/``-separated, relative)      |
| digest | string | sha256 hex of the plaintext; for a remote reference ``etag:...`` etc. |
| size   | int64  | bytes of plaintext                                                   |
| blob   | string | the object's name in the store (null for references)                 |
| ref    | string | the URI of an external object recorded by reference, else null       |

Rows are sorted by ``path``. See ``docs/format.md``.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from gittrack.errors import FormatError, UsageError
from gittrack.formats.values import text_problem

FORMAT_VERSION = "1"
COLUMNS = ("path", "digest", "size", "blob", "ref")
_MAX_PATH = 4096
_HEX = re.compile(r"\A[0-9a-f]{3,128}\Z")
# an empty, "." or ".." part; \A and \Z, not ^ and $, which would match before a final "\n"
_BAD_PART = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)")


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file of an artifact version."""

    path: str
    digest: str
    size: int
    blob: str | None = None
    ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
    elif (bad_text := text_problem(name)) is not None:
        # A file name from a non-UTF-8 file system: the manifest cannot store it.
        raise UsageError(f"{what} {name!r} {bad_text}")
    if problem:
        raise UsageError(f"{what} {name!r} {problem}: use a relative path like 'data/train.csv'")
    return name


def parents(path: str) -> list[str]:
    """``"a/b/c"`` → ``["a", "a/b"]``: the folders a file needs."""
    found = []
    cut = path.find("/")
    while cut != -1:
        found.append(path[:cut])
        cut = path.find("/", cut + 1)
    return found


class NameSet:
    """Names of an artifact's files, refusing duplicates and a name that is also a folder
    (``a`` and ``a/b``: no folder on disk can hold both).

    One name at a time: ``clash`` then ``add``. A whole folder at once (10,000 names): ``of``,
    ``overlaps`` and ``update``, set operations that only say whether there is a clash; ask
    ``clash`` name by name to say which.
    """

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.dirs: set[str] = set()

    @classmethod
    def of(cls, names: Sequence[str]) -> NameSet | None:
        """The set of ``names``, or ``None`` if they clash among themselves."""
        found = cls()
        found.files = set(names)
        folders = {name.rpartition("/")[0] for name in found.files} - {""}
        for folder in folders:  # a few hundred folders for thousands of files
            found.dirs.add(folder)
            found.dirs.update(parents(folder))
        if len(found.files) != len(names) or not found.files.isdisjoint(found.dirs):
            return None
        return found

    def overlaps(self, other: NameSet) -> bool:
        """Whether a name of ``other`` would clash with one of these."""
        return not (self.files.isdisjoint(other.files) and self.files.isdisjoint(other.dirs)
                    and self.dirs.isdisjoint(other.files))

    def update(self, other: NameSet) -> None:
        self.files |= other.files
        self.dirs |= other.dirs

    def clash(self, name: str) -> str | None:
        if name in self.files:
            return f"two files named {name!r}"
        if name in self.dirs:
            return f"{name!r} both as a file and as a folder"
        folder = next((p for p in parents(name) if p in self.files), None)
        return None if folder is None else f"{folder!r} both as a file and as a folder"

    def add(self, name: str) -> None:
        self.files.add(name)
        self.dirs.update(parents(name))


def content_key(entries: Iterable[ManifestEntry]) -> tuple[tuple[str, str, str | None], ...]:
    """What makes two versions the same: paths, digests and references, not blob names.

    Blob names change when a private project rotates its key; the content does not.
    """
    return tuple(sorted((e.path, e.digest, e.ref) for e in entries))


def write_manifest(entries: Sequence[ManifestEntry]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gittrack.formats import arrow

    rows = sorted(entries, key=lambda e: e.path)
    table = pa.Table.from_arrays(
        [arrow.strings([e.path for e in rows]), arrow.strings([e.digest for e in rows]),
         arrow.numeric([e.size for e in rows], "int"), arrow.strings([e.blob for e in rows]),
         arrow.strings([e.ref for e in rows])],
        names=list(COLUMNS),
    ).replace_schema_metadata({"gittrack.format": FORMAT_VERSION})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def read_manifest(data: bytes, *, what: str = "manifest.parquet") -> list[ManifestEntry]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:  # ParquetFile, not read_table: that imports pyarrow.dataset, and with it pandas
        table = pq.ParquetFile(pa.BufferReader(data)).read()
    except (pa.ArrowInvalid, OSError) as exc:
        raise FormatError(f"cannot read {what}: {exc}") from None
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise FormatError(f"{what} lacks the column(s) {', '.join(missing)}")
    entries = []
    for row in table.select(list(COLUMNS)).to_pylist():
        entries.append(_entry(row, what))
    return entries


def _entry(row: dict[str, Any], what: str) -> ManifestEntry:
    try:
        path = check_entry_path(row["path"], what="path")
    except UsageError as exc:
        raise FormatError(f"{what}: {exc}") from None
    digest, size = row["digest"], row["size"]
    if not isinstance(digest, str) or not digest or not isinstance(size, int) or size < 0:
        raise FormatError(f"{what}: row {path!r} has no valid digest and size")
    blob = row["blob"]
    if blob is None and row["ref"] is None:
        raise FormatError(f"{what}: row {path!r} has neither a blob nor a reference")
    if blob is not None and not _HEX.match(blob):
        raise FormatError(f"{what}: row {path!r} names the blob {blob!r}, not a hex name")
    return ManifestEntry(path=path, digest=digest, size=size, blob=blob, ref=row["ref"])
