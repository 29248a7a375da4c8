"""PresenceCache: names seen in a store, per store, within a TTL; forgetting is never lost."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittrack.blobs import presence
from gittrack.blobs.presence import PresenceCache, store_key


def name(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "presence.sqlite"


@pytest.fixture
def seen(db: Path) -> Iterator[PresenceCache]:
    cache = PresenceCache(db, store_key("s3://bucket/gittrack", {}))
    yield cache
    cache.close()


def test_added_names_are_known_once_flushed_and_to_other_processes(
    seen: PresenceCache, db: Path
) -> None:
    seen.add([name(1), name(2)])
    other = PresenceCache(db, store_key("s3://bucket/gittrack", {}))
    assert other.known([name(1)]) == set()  # not written yet
    assert seen.known([name(1), name(3)]) == {name(1)}  # a read flushes first
    assert other.known([name(1), name(2), name(3)]) == {name(1), name(2)}
    other.close()


def test_stores_do_not_share_names(db: Path) -> None:
    plain = PresenceCache(db, store_key("s3://bucket/gittrack", {}))
    moto = PresenceCache(db, store_key("s3://bucket/gittrack", {"endpoint_url": "http://x"}))
    plain.add([name(1)])
    plain.flush()
    assert moto.known([name(1)]) == set()
    plain.close()
    moto.close()


def test_store_key_writes_no_secret() -> None:
    key = store_key("s3://b/p", {"key": "AKIAEXAMPLE", "secret": "hunter2"})
    assert "hunter2" not in key and "AKIA" not in key
    assert key != store_key("s3://b/p", {"key": "AKIAEXAMPLE", "secret": "other"})


def test_entries_older_than_the_ttl_are_not_trusted(db: Path, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    seen = PresenceCache(db, "store", ttl=3600)
    now = 10**18
    monkeypatch.setattr(presence.time, "time_ns", lambda: now)
    seen.add([name(1)])
    seen.flush()
    now += 3599 * 10**9
    assert seen.known([name(1)]) == {name(1)}
    now += 2 * 10**9
    assert seen.known([name(1)]) == set()
    seen.close()


def test_forget_drops_written_and_pending_names(seen: PresenceCache) -> None:
    seen.add([name(1)])
    seen.flush()
    seen.add([name(2)])
    assert seen.forget([name(1), name(2)])
    assert seen.known([name(1), name(2)]) == set()


def test_forget_all_drops_this_store_only(db: Path) -> None:
    a, b = PresenceCache(db, "a"), PresenceCache(db, "b")
    a.add([name(1)])
    b.add([name(1)])
    a.flush()
    b.flush()
    assert a.forget_all()
    assert a.known([name(1)]) == set() and b.known([name(1)]) == {name(1)}
    a.close()
    b.close()


def test_a_forget_that_fails_stops_all_trust(seen: PresenceCache,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen.add([name(1), name(2)])
    seen.flush()
    monkeypatch.setattr(seen._db, "write", lambda sql, rows, **_: False)  # locked, disk full...
    assert not seen.forget([name(1)])
    assert seen.known([name(2)]) == set()  # what else the file says cannot be trusted now


def test_an_unusable_file_vouches_for_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    seen = PresenceCache(tmp_path / "file" / "presence.sqlite", "store")
    seen.add([name(1)])
    seen.flush()
    assert seen.known([name(1)]) == set()
    assert seen.forget([name(1)])  # nothing there to be stale


def test_adds_are_written_in_batches(seen: PresenceCache, db: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presence, "_FLUSH_AT", 3)
    other = PresenceCache(db, store_key("s3://bucket/gittrack", {}))
    seen.add([name(1), name(2)])
    assert other.known([name(1)]) == set()
    seen.add([name(3)])  # the third: a batch is written
    assert other.known([name(1), name(2), name(3)]) == {name(1), name(2), name(3)}
    other.close()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.sets(st.integers(0, 200)), asked=st.sets(st.integers(0, 200)),
       others=st.sets(st.integers(0, 200)))
def test_known_is_the_intersection_whichever_way_it_reads(
    tmp_path_factory: pytest.TempPathFactory, stored: set[int], asked: set[int],
    others: set[int],
) -> None:
    # A scan of the store's entries (few entries) or a lookup by name (many): the same answer.
    db = tmp_path_factory.mktemp("presence") / "p.sqlite"
    seen, other = PresenceCache(db, "this"), PresenceCache(db, "other")
    seen.add(name(i) for i in stored)
    other.add(name(i) for i in others)
    seen.flush()
    other.flush()
    assert seen.known([name(i) for i in asked]) == {name(i) for i in stored & asked}
    seen.close()
    other.close()
