"""``SqliteFile``: a small sqlite database kept as a cache, shared by threads and processes.

A cache only costs time when it is lost, so no failure here is an error: a read-only folder,
a full disk, a corrupt file or a lock held past the busy timeout make a read return ``None``
and a write return ``False``; the caller decides what that means.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

# sqlite's limit on "?" in one statement is 999 before 3.32 and 32,766 since; a few hundred
# keys per statement are as fast as one statement for all of them (measured: 10,000 keys).
CHUNK = 500


class SqliteFile:
    """One connection behind a lock (sqlite work is microseconds next to the file work it
    saves); several processes share the file through its WAL journal and a busy timeout."""

    def __init__(self, path: Path, schema: Sequence[str]) -> None:
        self.path = Path(path)
        self._schema = tuple(schema)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._opened = False

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]] | None:
        """The rows of one statement, or ``None`` when the database cannot be read."""
        with self._connected() as conn:
            if conn is not None:
                try:
                    return conn.execute(sql, params).fetchall()  # rows are tuples
                except sqlite3.Error:
                    pass
        return None

    def query_in(self, sql: str, keys: Sequence[object],
                 params: Sequence[object] = ()) -> list[tuple[Any, ...]] | None:
        """``sql`` holding ``IN ({marks})`` run over ``keys`` a chunk at a time (``params``
        first), in one read transaction; every row, or ``None`` when it cannot be read."""
        rows: list[tuple[Any, ...]] = []
        with self._connected() as conn:
            if conn is None:
                return None
            try:
                with _transaction(conn, "BEGIN"):
                    for start in range(0, len(keys), CHUNK):
                        part = keys[start:start + CHUNK]
                        statement = sql.format(marks=",".join("?" * len(part)))
                        rows.extend(conn.execute(statement, (*params, *part)).fetchall())
            except sqlite3.Error:
                return None
        return rows

    def write(self, sql: str, rows: Iterable[Sequence[object]], *, erase: bool = False) -> bool:
        """``sql`` for each of ``rows``, all in one transaction; ``False`` if it was not
        written (then none of it was).

        ``erase``: what the statement deleted must not stay readable in the file: deleted
        content is zeroed (``secure_delete``, on for every connection) and the write-ahead
        journal, which holds older copies of the pages, is checkpointed and truncated
        (another process still reading it can delay that to its next erase)."""
        with self._connected() as conn:
            if conn is None:
                return False
            try:
                with _transaction(conn, "BEGIN IMMEDIATE"):  # the write lock up front
                    conn.executemany(sql, rows)
                if erase:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.Error:
                return False
        return True

    @property
    def available(self) -> bool:
        """Whether the file could be opened (tried once, on first use)."""
        with self._connected() as conn:
            return conn is not None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextlib.contextmanager
    def _connected(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            if not self._opened:  # try once: a read-only folder stays a no-op cache
                self._opened = True
                self._conn = _connect(self.path, self._schema)
                if self._conn is not None:
                    weakref.finalize(self, self._conn.close)
            yield self._conn


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection, begin: str) -> Iterator[None]:
    conn.execute(begin)
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _connect(path: Path, schema: Sequence[str]) -> sqlite3.Connection | None:
    for attempt in range(2):
        try:
            return _open(path, schema)
        except sqlite3.DatabaseError as exc:
            # Not a database (a torn or foreign file): it is only a cache, start over once.
            if attempt or isinstance(exc, sqlite3.OperationalError):
                return None
            with contextlib.suppress(OSError):
                path.unlink()
        except OSError:
            return None
    return None


def _open(path: Path, schema: Sequence[str]) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: the lock in SqliteFile serialises every use. isolation_level
    # None: no implicit transactions, each is opened and closed here explicitly.
    conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False, isolation_level=None)
    try:
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")  # a lost entry only costs a rehash
        # Deleted rows are zeroed, not left in free pages: a purge removes source paths and
        # digests (docs/security.md), and deletions are rare enough not to cost anything.
        conn.execute("PRAGMA secure_delete=ON")
        for statement in schema:
            conn.execute(statement)
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
