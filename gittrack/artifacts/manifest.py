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

import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gittrack.blobs.names import check_name, is_digest, is_name
from gittrack.errors import FormatError, InvalidValueError, UsageError
from gittrack.formats import table as chunks
from gittrack.formats.table import groups_with, read_parquet, row_count
from gittrack.storage.entry import ManifestEntry as ManifestEntry  # the rows it lists
from gittrack.storage.entry import check_entry_path as check_entry_path
from gittrack.types import Checksum, Digest

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT_VERSION = "1"
COLUMNS = ("path", "digest", "size", "blob", "ref")
MAX_ENTRIES = 10_000_000
"""The most files one artifact version may list: ``log_artifact`` refuses more, and readers
refuse a manifest with more rows before decoding it (a forged 860 KB manifest can declare
30 million), as well as one whose data would take more than ``table.MAX_CHUNK_BYTES``."""
ROW_GROUP_ROWS = 1 << 16
"""Rows per Parquet row group: one file of a large version is found by the groups' ``path``
statistics and only its group is read (``find_entry``); a smaller manifest is one group,
byte for byte what gittrack wrote before (docs/decisions.md, "Issue 10: large artifacts")."""
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")
"""A stored file's digest and its blob's name (the digest, or its HMAC-SHA256 when private)."""
_CHECKSUM = re.compile(r"\A(?:etag|md5|checksum|crc32c|fsspec):[\x21-\x7e]{1,1024}\Z")
"""A remote reference's checksum, as ``references.remote_checksum`` writes it."""
_URI = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*://[^\x00-\x1f\x7f]{1,8192}\Z")
_MAX_SIZE = 2**63 - 1


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


    if len(entries) > MAX_ENTRIES:
        raise InvalidValueError(f"an artifact may list at most {MAX_ENTRIES:,} files; this one "
                                f"has {len(entries):,}: pack small files into archives")
    rows = sorted(entries, key=lambda e: e.path)
    table = pa.Table.from_arrays(entry_arrays(rows), names=list(COLUMNS)).replace_schema_metadata(
        {"gittrack.format": FORMAT_VERSION})
    _check_size(table)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    return sink.getvalue()


def entry_arrays(entries: Sequence[ManifestEntry]) -> list[pa.Array]:
    """The manifest columns (``COLUMNS``, in order) of ``entries``: what every Parquet file
    naming stored blobs starts with (an artifact's manifest, a run's media index, console
    and code), so that one reader finds the blobs of all of them."""
    from gittrack.formats import arrow

    return [arrow.strings([e.path for e in entries]), arrow.strings([e.digest for e in entries]),
            arrow.numeric([e.size for e in entries], "int"),
            arrow.strings([e.blob for e in entries]), arrow.strings([e.ref for e in entries])]


def _check_size(manifest: pa.Table) -> None:
    """A manifest is one file, never split: refuse one a reader would refuse (issue 8)."""
    size, limit = chunks.decoded_size(manifest), chunks.MAX_CHUNK_BYTES
    if size > limit:
        raise InvalidValueError(
            f"this artifact's manifest.parquet would take {size:,} bytes decoded, more than the "
            f"{limit:,} readers accept (docs/format.md, \"Bounds\"): pack small files into "
            "archives or use shorter names")


def read_manifest(data: bytes, *, what: str = "manifest.parquet") -> list[ManifestEntry]:
    entries = _entries(read_parquet(data, what=what, max_rows=MAX_ENTRIES), what)
    _check_names(entries, what)
    return entries


def count_rows(data: bytes | memoryview, *, what: str = "manifest.parquet") -> int:
    """How many files the manifest lists, from its footer (nothing decoded)."""
    return row_count(data, what=what)


def first_entries(data: bytes | memoryview, count: int, *,
                  what: str = "manifest.parquet") -> list[ManifestEntry]:
    """The first ``count`` rows (by path), each checked as ``read_manifest`` checks it: what
    a listing shows of a large version without decoding the rest."""
    if count <= 0:
        return []
    table = read_parquet(data, what=what, max_rows=MAX_ENTRIES, first=count)
    return _entries(table.slice(0, count), what)


def find_entry(data: bytes | memoryview, path: str, *,
               what: str = "manifest.parquet") -> ManifestEntry | None:
    """The row of the file named ``path``, checked, or ``None``: only the row groups whose
    ``path`` statistics may hold it are read (one of a 1,000,000-row manifest, not all)."""
    import pyarrow.compute as pc

    from gittrack.formats import arrow

    groups = groups_with(data, "path", path, what=what)
    if not groups:
        return None
    table = read_parquet(data, what=what, max_rows=MAX_ENTRIES, row_groups=groups)
    if "path" not in table.column_names:
        raise FormatError(f"{what} lacks the column(s) path")
    wanted = arrow.strings([path])[0]  # an Arrow scalar: a Python str would import pandas
    found = table.filter(pc.equal(table.column("path"), wanted))
    return _entries(found.slice(0, 1), what)[0] if found.num_rows else None


def table_entries(table: pa.Table, *, what: str) -> list[ManifestEntry]:
    """The checked rows of a table that has the manifest columns (a run's media index, read
    by ``runs.media_index``), in table order; ``FormatError`` naming ``what`` for a bad row.
    Unlike ``read_manifest``, paths are not checked against each other."""
    return _entries(table, what)


def _entries(table: pa.Table, what: str) -> list[ManifestEntry]:
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise FormatError(f"{what} lacks the column(s) {', '.join(missing)}")
    return [_entry(row, what) for row in table.select(list(COLUMNS)).to_pylist()]


def read_marks(data: bytes, *, what: str = "manifest.parquet") -> list[ManifestEntry]:
    """The ``digest`` and ``blob`` of every row that has a sha256 and a blob name, nothing
    else checked: what the mark phase of ``gc`` and ``purge`` keeps. A row a remote forged (a
    bad path, size or name) can only make them keep more, never delete what a good row names,
    so it is no reason to refuse (a row whose blob is no blob name names nothing a store can
    hold); a file that is not Parquet at all still is (``FormatError``): what it names cannot
    be known."""
    rows = read_parquet(data, what=what, columns=["digest", "blob"],
                        max_rows=MAX_ENTRIES).to_pylist()
    return [ManifestEntry(path="", digest=digest, size=0, blob=blob) for r in rows
            if is_digest(digest := r["digest"]) and is_name(blob := r["blob"])]


def first_clash(paths: Sequence[str]) -> str | None:
    """What makes ``paths`` unable to lie side by side in one folder — two equal paths, or a
    path that is also another's folder (``a``, ``a/b``) — or ``None``."""
    if NameSet.of(paths) is not None:
        return None  # the common case, in set operations; path by path only to say which
    seen = NameSet()
    for path in paths:
        clash = seen.clash(path)
        if clash:
            return clash
        seen.add(path)
    return None


def _check_names(entries: list[ManifestEntry], what: str) -> None:
    """A download could hold only one of two clashing rows."""
    clash = first_clash([e.path for e in entries])
    if clash:
        raise FormatError(f"{what} has {clash}")


def _entry(row: dict[str, Any], what: str) -> ManifestEntry:
    try:
        path = check_entry_path(row["path"], what="path")
    except UsageError as exc:
        raise FormatError(f"{what}: {exc}") from None
    problem = _row_problem(row)
    if problem:
        raise FormatError(f"{what}: row {path!r}: {problem}"[:500])
    blob, digest = row["blob"], row["digest"]  # checked by _row_problem: converted here
    return ManifestEntry(path=path, digest=_digest(digest), size=row["size"],
                         blob=None if blob is None else check_name(blob), ref=row["ref"])


def _digest(value: str) -> Digest | Checksum:
    """A checked row's digest: a sha256, else a remote reference's store checksum."""
    return value if is_digest(value) else Checksum(value)


def _row_problem(row: dict[str, Any]) -> str | None:
    """What is wrong with a row, against what gittrack writes, or ``None``."""
    digest, size, blob, ref = row["digest"], row["size"], row["blob"], row["ref"]
    if type(size) is not int or not 0 <= size <= _MAX_SIZE:
        return f"size must be a whole number >= 0, got {size!r}"
    if not isinstance(digest, str):
        return f"digest must be a string, got {digest!r}"
    if (blob is None) == (ref is None):
        return "must name either a blob or a reference (ref), not both or neither"
    if blob is not None:
        if not isinstance(blob, str) or not _SHA256.match(blob):
            return f"blob must be 64 lowercase hex characters, got {blob!r}"
        if not _SHA256.match(digest):
            return f"digest must be a sha256 (64 lowercase hex characters), got {digest!r}"
        return None
    if not isinstance(ref, str) or not _URI.match(ref):
        return f"ref must be a URL (scheme://...) without control characters, got {ref!r}"
    if ref.lower().startswith("file:") and not _SHA256.match(digest):
        return f"a local reference's digest must be its sha256, got {digest!r}"
    if not (_SHA256.match(digest) or _CHECKSUM.match(digest)):
        return f"digest must be a sha256 or a store checksum (etag:..., md5:...), got {digest!r}"
    return None
