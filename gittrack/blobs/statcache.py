"""``StatCache``: path + stat → digest, so an unchanged file is not hashed twice.

A file counts as unchanged when its size, mtime_ns, ctime_ns and inode all match what they
were when it was hashed (the same test git's index uses). The cache is an optimisation only:
any sqlite failure (read-only folder, disk full, a corrupt file) makes it a miss, never an
error.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path

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

# "Racily clean" (git's term): a file modified again within the same timestamp tick as the
# hash keeps its mtime. Entries for files younger than this at record time are not kept.
# https://git-scm.com/docs/racy-git
_RACY_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000  # whole-second timestamps (FAT, some network filesystems)


class StatCache:
    """A sqlite file of ``path → (size, mtime_ns, ctime_ns, inode, digest)``.

    Safe to share between threads (one connection behind a lock; sqlite work here is
    microseconds next to hashing) and between processes (WAL journal, busy timeout).

    >>> cache = StatCache(Path(".git/gittrack/cache/stat.sqlite"))  # doctest: +SKIP
    >>> st = os.stat("model.pt")  # doctest: +SKIP
    >>> cache.lookup(Path("model.pt"), st) or hash_file(Path("model.pt"))[0]  # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._opened = False

    def lookup(self, path: Path, st: os.stat_result) -> str | None:
        """The digest recorded for ``path`` if its stat still matches ``st``, else ``None``."""
        row = self._execute(
            "SELECT size, mtime_ns, ctime_ns, inode, digest FROM stat WHERE path = ?",
            (_key(path),),
        )
        if row is None or tuple(row[:4]) != _stat_key(st):
            return None
        return str(row[4])

    def record(self, path: Path, st: os.stat_result, digest: str) -> None:
        """Remember that ``path`` with stat ``st`` has ``digest`` (``st`` taken before hashing)."""
        if _is_racy(st):
            return
        self._execute(
            "INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)",
            (_key(path), *_stat_key(st), digest),
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _execute(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None
            try:  # autocommit: each statement is its own transaction
                row = conn.execute(sql, params).fetchone()
            except sqlite3.Error:
                return None  # locked past the timeout, disk full, read-only: a miss
        return None if row is None else tuple(row)

    def _connection(self) -> sqlite3.Connection | None:
        if not self._opened:  # try once: a read-only folder stays a no-op cache
            self._opened = True
            self._conn = _connect(self.path)
            if self._conn is not None:
                weakref.finalize(self, self._conn.close)
        return self._conn


def _connect(path: Path) -> sqlite3.Connection | None:
    for attempt in range(2):
        try:
            return _open(path)
        except sqlite3.DatabaseError as exc:
            # Not a database (a torn or foreign file): it is only a cache, start over once.
            if attempt or isinstance(exc, sqlite3.OperationalError):
                return None
            with contextlib.suppress(OSError):
                path.unlink()
        except OSError:
            return None
    return None


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: the lock in StatCache serialises every use.
    conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False, isolation_level=None)
    try:
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")  # a lost entry only costs a rehash
        conn.execute(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    # Switching the journal mode answers "locked" at once, without the busy timeout, while
    # another process opens the same new file; the mode is stored in the file, so whichever
    # process wins, a retry then finds "wal".
    for _ in range(100):
        try:
            if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        time.sleep(0.01)


def _key(path: Path) -> str:
    return os.path.abspath(path)


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    # Inodes are unsigned 64-bit; sqlite integers are signed.
    inode = st.st_ino - (1 << 64) if st.st_ino >= 1 << 63 else st.st_ino
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, inode


def _is_racy(st: os.stat_result) -> bool:
    window = _RACY_COARSE_NS if st.st_mtime_ns % 1_000_000_000 == 0 else _RACY_NS
    return time.time_ns() - st.st_mtime_ns < window
