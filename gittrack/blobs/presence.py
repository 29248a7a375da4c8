"""``PresenceCache``: the blobs this machine has seen in a store, so that putting unchanged
files again needs no listing of the store (10,000 keys: seconds on S3).

An entry says "blob N was in store S at time T": written when gittrack uploads a blob or a
check finds it, removed *before* gittrack deletes it (a delete that cannot update the cache
is refused) and when a check finds it missing. It is only a hint, with three guards (see
``BlobStore.missing``): entries older than ``TTL`` are not trusted; a few trusted names,
picked at random, are confirmed in the store before the rest are believed (a store emptied
or replaced behind gittrack's back drops every entry); and a push checks every blob it
sends for real. Deletions by other machines are what it cannot see: those are found by the
push, which drops the entries it finds stale.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gittrack.blobs.sqlitefile import SqliteFile
from gittrack.types import BlobName

TTL = 24 * 3600.0
"""Seconds an entry is trusted: the default grace period of ``gittrack gc``."""

_FLUSH_AT = 1_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS present (
    store TEXT NOT NULL,
    name TEXT NOT NULL,
    seen_ns INTEGER NOT NULL,
    PRIMARY KEY (store, name)
) WITHOUT ROWID
"""
_SELECT_ALL = "SELECT name, seen_ns FROM present WHERE store = ? LIMIT ?"
_SELECT = "SELECT name, seen_ns FROM present WHERE store = ? AND name IN ({marks})"
_INSERT = "INSERT OR REPLACE INTO present VALUES (?, ?, ?)"
_DELETE = "DELETE FROM present WHERE store = ? AND name = ?"


def store_key(url: str, options: Mapping[str, Any] | None) -> str:
    """Who a store is: its URL and options (an endpoint makes another store of the same URL).
    Hashed, so no credential among the options is written down."""
    text = json.dumps([url, dict(options or {})], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class PresenceCache:
    """The names seen in one store (``store``: its ``store_key``), in a sqlite file shared
    by every store, thread and process of a clone.

    >>> seen = PresenceCache(Path(".git/gittrack/cache/presence.sqlite"), key)  # doctest: +SKIP
    >>> seen.add(["9f86d0..."]); seen.flush()  # doctest: +SKIP
    >>> seen.known(["9f86d0...", "ab12..."])  # doctest: +SKIP
    {'9f86d0...'}
    """

    def __init__(self, path: Path, store: str, *, ttl: float = TTL) -> None:
        self._db = SqliteFile(path, [_SCHEMA])
        self._store = store
        self._ttl_ns = int(ttl * 1e9)
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        self._trusted = True

    @property
    def path(self) -> Path:
        return self._db.path

    def known(self, names: Sequence[BlobName]) -> set[BlobName]:
        """Those of ``names`` seen in the store within the TTL."""
        self.flush()
        if not self._trusted or not names:
            return set()
        wanted = set(names)
        # Reading every entry of the store is twice as fast as looking each name up, unless
        # it holds many more: the scan stops at twice the number asked for.
        limit = 2 * len(wanted) + 16
        rows = self._db.query(_SELECT_ALL, (self._store, limit))
        if rows is not None and len(rows) >= limit:
            rows = self._db.query_in(_SELECT, list(wanted), (self._store,))
        cutoff = time.time_ns() - self._ttl_ns
        return {name for name, seen in rows or () if seen >= cutoff and name in wanted}

    def add(self, names: Iterable[BlobName]) -> None:
        """Note that ``names`` are in the store now; written in batches (``flush``)."""
        now = time.time_ns()
        with self._lock:
            self._pending.update((name, now) for name in names)
            full = len(self._pending) >= _FLUSH_AT
        if full:
            self.flush()

    def flush(self) -> None:
        """Write what ``add`` noted. Losing it only costs a check of the store later."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            self._db.write(_INSERT, [(self._store, n, t) for n, t in pending.items()])

    def forget(self, names: Iterable[BlobName]) -> bool:
        """Drop ``names`` (about to be deleted, or found missing). ``False`` if they may still
        be there: this process then trusts nothing from the file any more."""
        wanted = list(names)
        with self._lock:
            for name in wanted:
                self._pending.pop(name, None)
        if not wanted or self._db.write(_DELETE, [(self._store, n) for n in wanted], erase=True):
            return True
        self._trusted = False
        return not self._db.available  # a file that never opened holds nothing to trust

    def forget_all(self) -> bool:
        """Drop every entry of this store (it changed behind gittrack's back)."""
        with self._lock:
            self._pending.clear()
        if self._db.write("DELETE FROM present WHERE store = ?", [(self._store,)]):
            return True
        self._trusted = False
        return not self._db.available

    def close(self) -> None:
        self.flush()
        self._db.close()
