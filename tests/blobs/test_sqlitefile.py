"""SqliteFile: chunked reads, all-or-nothing writes, and failures that are never errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gittrack.blobs import sqlitefile
from gittrack.blobs.sqlitefile import SqliteFile

SCHEMA = ["CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID"]
SELECT = "SELECT k, v FROM t WHERE v >= ? AND k IN ({marks})"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteFile]:
    db = SqliteFile(tmp_path / "cache" / "t.sqlite", SCHEMA)
    yield db
    db.close()


def test_query_in_spans_chunks(db: SqliteFile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlitefile, "CHUNK", 7)
    assert db.write("INSERT INTO t VALUES (?, ?)", [(f"k{i}", i) for i in range(50)])
    keys = [f"k{i}" for i in range(0, 50, 2)] + ["absent"]
    rows = db.query_in(SELECT, keys, (10,))
    assert sorted(rows or []) == sorted((f"k{i}", i) for i in range(10, 50, 2))
    assert db.query_in(SELECT, [], (0,)) == []


def test_a_failed_write_writes_nothing(db: SqliteFile) -> None:
    assert db.write("INSERT INTO t VALUES (?, ?)", [("a", 1)])
    # The second row breaks the primary key: the first must not stay behind.
    assert not db.write("INSERT INTO t VALUES (?, ?)", [("b", 2), ("a", 3)])
    assert db.query("SELECT k, v FROM t ORDER BY k") == [("a", 1)]
    assert db.write("INSERT INTO t VALUES (?, ?)", [("b", 2)])  # the connection still works


def test_a_file_that_cannot_be_created_is_empty_and_read_only(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    db = SqliteFile(tmp_path / "file" / "t.sqlite", SCHEMA)  # a folder under a file
    assert not db.available
    assert db.query("SELECT k FROM t") is None
    assert db.query_in(SELECT, ["a"], (0,)) is None
    assert not db.write("INSERT INTO t VALUES (?, ?)", [("a", 1)])


def test_a_corrupt_file_is_started_over(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    path.write_bytes(b"not a database, but long enough to look like one" * 50)
    db = SqliteFile(path, SCHEMA)
    assert db.write("INSERT INTO t VALUES (?, ?)", [("a", 1)])
    assert db.query("SELECT k, v FROM t") == [("a", 1)]
    db.close()


def test_wal_journal(db: SqliteFile) -> None:
    db.write("INSERT INTO t VALUES (?, ?)", [("a", 1)])
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
