"""``StatCache``: path + stat → digest, so an unchanged file is not hashed twice.

A file counts as unchanged when its size, mtime_ns, ctime_ns and inode all match what they
were when it was hashed (the same test git's index uses). The cache also says where on this
machine a digest's bytes were (``sources``): a push re-uploads from there a blob the store lost
(a teammate's purge removed the blob this clone's unpushed version shares). The cache is an
optimisation only: any sqlite failure (read-only folder, disk full, a corrupt file) makes it
a miss, never an error. Lookups and records come in bulk (``lookup_many``, ``record_many``):
a folder of 10,000 files is a few statements and one transaction, not 20,000 of each.

A path is stored as text when UTF-8 can hold it, else as the bytes the file system has
(``os.fsencode``: sqlite cannot bind a ``str`` with the lone surrogates ``os.fsdecode`` makes
of them), so the file needs no migration: a text row and a bytes row never match each other.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeAlias

from gittrack.blobs.names import is_digest
from gittrack.blobs.sqlitefile import SqliteFile
from gittrack.types import Digest

StrPath: TypeAlias = "str | os.PathLike[str]"
Key: TypeAlias = "str | bytes"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stat (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    digest TEXT NOT NULL
) WITHOUT ROWID
"""
_COLUMNS = "SELECT path, size, mtime_ns, ctime_ns, inode, digest FROM stat"
_SELECT = _COLUMNS + " WHERE path IN ({marks})"
_SELECT_RANGE = _COLUMNS + " WHERE path >= ? AND path < ? LIMIT ?"
_INSERT = "INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)"
_DELETE = "DELETE FROM stat WHERE digest = ?"
_SOURCES = "SELECT path FROM stat WHERE digest = ?"
_DIGESTS = "SELECT DISTINCT digest FROM stat"

# "Racily clean" (git's term): a file modified again within the same timestamp tick as the
# hash keeps its mtime. Entries for files younger than this at record time are not kept.
# https://git-scm.com/docs/racy-git
_RACY_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000  # whole-second timestamps (FAT, some network filesystems)
# A racily clean file is still recorded, under a stat no file has: never a lookup hit (it is
# hashed again), but a place its bytes were (``sources``).
_UNSURE = (-1, -1, -1, -1)


class StatCache:
    """A sqlite file of ``path → (size, mtime_ns, ctime_ns, inode, digest)``.

    Safe to share between threads and between processes (see ``SqliteFile``).

    >>> cache = StatCache(Path(".git/gittrack/cache/stat.sqlite"))  # doctest: +SKIP
    >>> st = os.stat("model.pt")  # doctest: +SKIP
    >>> cache.lookup(Path("model.pt"), st) or hash_file(Path("model.pt"))[0]  # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self._db = SqliteFile(path, [_SCHEMA])

    @property
    def path(self) -> Path:
        return self._db.path

    def lookup(self, path: StrPath, st: os.stat_result) -> Digest | None:
        """The digest recorded for ``path`` if its stat still matches ``st``, else ``None``."""
        return self.lookup_many([(path, st)])[0]

    def lookup_many(self, items: Sequence[tuple[StrPath, os.stat_result]],
                    ) -> list[Digest | None]:
        """``lookup`` of each ``(path, stat)``, in order, in one read of the database (a row
        whose digest is not a sha256 is no answer: the file is hashed again)."""
        keys = [_key(path) for path, _ in items]
        found = {row[0]: row[1:] for row in self._rows(keys)}
        digests: list[Digest | None] = []
        for key, (_, st) in zip(keys, items, strict=True):
            row = found.get(key)
            digest = str(row[4]) if row is not None and row[:4] == _stat_key(st) else None
            digests.append(digest if digest is not None and is_digest(digest) else None)
        return digests

    def _rows(self, keys: list[Key]) -> list[tuple[object, ...]]:
        """The rows of ``keys``. Files logged together share a folder, and one range scan of
        it is twice as fast as looking each one up; unless the cache holds many more files
        under that folder (a scan stops at twice the number asked for), then by key."""
        if not keys:
            return []
        wanted = list(dict.fromkeys(keys))
        if any(isinstance(key, bytes) for key in wanted):  # rare: by key
            return self._db.query_in(_SELECT, wanted) or []
        texts = [str(key) for key in wanted]
        # By character, on purpose: min/max in C, where commonpath splits every path. The
        # folder part of a common prefix is a common folder.
        folder = os.path.dirname(os.path.commonprefix(texts)).rstrip(os.sep)  # noqa: RUF071
        limit = 2 * len(wanted) + 16
        after = chr(ord(os.sep) + 1)  # the range of every path starting with folder + sep
        rows = self._db.query(_SELECT_RANGE, (folder + os.sep, folder + after, limit))
        if rows is not None and len(rows) < limit:
            return rows
        return self._db.query_in(_SELECT, wanted) or []

    def record(self, path: StrPath, st: os.stat_result, digest: Digest) -> None:
        """Remember that ``path`` with stat ``st`` has ``digest`` (``st`` taken before hashing)."""
        self.record_many([(path, st, digest)])

    def record_many(self, items: Iterable[tuple[StrPath, os.stat_result, Digest]], *,
                    stat_time_ns: int | None = None) -> None:
        """``record`` of each ``(path, stat, digest)``, in one transaction.

        ``stat_time_ns``: when the stats were taken (``time.time_ns()``; default: now). A file
        modified shortly before that could change again unseen, keeping its stat: not kept.
        """
        taken = time.time_ns() if stat_time_ns is None else stat_time_ns
        rows = [(_key(path), *(_UNSURE if _is_racy(st, taken) else _stat_key(st)), digest)
                for path, st, digest in items]
        if rows:
            self._db.write(_INSERT, rows)

    def sources(self, digest: Digest) -> list[Path]:
        """Files on this machine that had ``digest`` when they were hashed or written (racily
        clean ones too): where its bytes may still be when the store lost them. Unverified:
        the caller hashes what it reads."""
        rows = self._db.query(_SOURCES, (digest,)) or []
        return [Path(os.fsdecode(row[0]) if isinstance(row[0], bytes) else str(row[0]))
                for row in rows]

    def forget_digests(self, digests: Iterable[Digest]) -> bool:
        """Remove every entry of ``digests`` (their blobs were purged or collected): no source
        path or digest of them stays in the file, its journal or its free pages. ``False``
        if the file could not be written."""
        wanted = sorted(set(digests))
        if not wanted:
            return True
        return self._db.write(_DELETE, [(d,) for d in wanted], erase=True)

    def digests(self) -> set[Digest] | None:
        """Every digest with an entry (``None``: the file cannot be read)."""
        rows = self._db.query(_DIGESTS)
        return None if rows is None else {d for row in rows if is_digest(d := str(row[0]))}

    def close(self) -> None:
        self._db.close()


def _key(path: StrPath) -> Key:
    """The stored form of ``path``: text, or bytes for a name that is not UTF-8."""
    text = os.path.abspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text)
    return text


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    # Inodes are unsigned 64-bit; sqlite integers are signed.
    inode = st.st_ino - (1 << 64) if st.st_ino >= 1 << 63 else st.st_ino
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, inode


def _is_racy(st: os.stat_result, taken_ns: int) -> bool:
    window = _RACY_COARSE_NS if st.st_mtime_ns % 1_000_000_000 == 0 else _RACY_NS
    return taken_ns - st.st_mtime_ns < window
