"""BlobVault on every backend, public and private: round trips, dedup, caches, damage."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.blobs.hashing import CHUNK
from gittrack.crypto.keys import ProjectKeys
from gittrack.errors import BlobNotFoundError, DecryptionError, StorageError, UsageError
from gittrack.storage import vault as storage_module
from gittrack.storage.vault import BlobVault
from tests.helpers.storage import Location, MakeStorage, old_file, sha


@pytest.fixture
def storage(location: Location, privacy: str, project_keys: ProjectKeys,
            make_storage: MakeStorage) -> BlobVault:
    return make_storage(location, project_keys if privacy == "private" else None)


def spy(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str) -> list[tuple[Any, ...]]:
    """Record the calls of ``obj.name`` (still calling it)."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, wrapper)
    return calls


def test_round_trip(storage: BlobVault, tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK + 17)
    src = old_file(tmp_path / "src" / "model.bin", data)
    entry = storage.put_file(src)
    assert entry == ManifestEntry("model.bin", sha(data), len(data), entry.blob)
    assert (entry.blob == sha(data)) == (not storage.private)  # keyed names when private
    dst = storage.fetch(entry, tmp_path / "out" / "model.bin")
    assert dst.read_bytes() == data


def test_private_blobs_are_encrypted_and_keyed(location: Location, make_storage: MakeStorage,
                                               project_keys: ProjectKeys, tmp_path: Path) -> None:
    data = b"secret weights " * 1000
    storage = make_storage(location, project_keys)
    entry = storage.put_file(old_file(tmp_path / "w.bin", data))
    assert entry.blob == project_keys.blob_name(sha(data)) != sha(data)
    with storage.store.open(entry.blob) as stored:
        raw = stored.read()
    assert raw.startswith(b"age-encryption.org/v1") and b"secret weights" not in raw


def test_second_put_of_unchanged_files_uploads_and_hashes_nothing(
    storage: BlobVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [(f"f{i}", old_file(tmp_path / f"f{i}", os.urandom(100 + i))) for i in range(20)]
    first = storage.put_files(files)
    uploads = spy(monkeypatch, storage.store, "put_file")
    hashes = spy(monkeypatch, storage_module, "hash_file")
    assert storage.put_files(files) == first
    assert uploads == [] and hashes == []


def test_identical_files_are_stored_once(storage: BlobVault, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = spy(monkeypatch, storage.store, "put_file")
    same = b"same bytes"
    entries = storage.put_files([("a", old_file(tmp_path / "a", same)),
                                 ("b/c", old_file(tmp_path / "b", same))])
    assert entries[0].blob == entries[1].blob and len(uploads) == 1


def test_many_small_files_in_parallel(storage: BlobVault, tmp_path: Path) -> None:
    files = {f"d/{i:03d}.txt": os.urandom(64) for i in range(60)}
    entries = storage.put_files([(n, old_file(tmp_path / "src" / n, d)) for n, d in files.items()])
    out = tmp_path / "out"
    storage.fetch_many([(e, out / e.path) for e in entries])
    assert {n: (out / n).read_bytes() for n in files} == files


def test_download_is_served_from_the_cache(storage: BlobVault, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(5000)
    entry = storage.put_file(old_file(tmp_path / "x", data))
    storage.fetch(entry, tmp_path / "one" / "x")
    downloads = spy(monkeypatch, storage.store, "get_file")
    assert storage.fetch(entry, tmp_path / "two" / "x").read_bytes() == data
    assert downloads == []


def test_a_damaged_cache_entry_is_fetched_again(storage: BlobVault, tmp_path: Path) -> None:
    data = os.urandom(5000)
    entry = storage.put_file(old_file(tmp_path / "x", data))
    storage.fetch(entry, tmp_path / "one" / "x")
    storage.cache.path(entry.digest).write_bytes(b"rotten")
    assert storage.fetch(entry, tmp_path / "two" / "x").read_bytes() == data
    assert storage.cache.path(entry.digest).read_bytes() == data


def _damage(storage: BlobVault, blob: str, how: str) -> None:
    with storage.store.open(blob) as stored:
        raw = bytearray(stored.read())
    if how == "truncated":
        raw = raw[: len(raw) - 100]
    else:
        raw[len(raw) // 2] ^= 0xFF
    bad = Path(storage.temp_dir.parent / f"bad-{uuid.uuid4().hex}")
    bad.write_bytes(bytes(raw))
    storage.store.put_file(blob, bad)


@pytest.mark.parametrize("how", ["truncated", "tampered"])
def test_a_damaged_blob_raises_and_writes_nothing(storage: BlobVault, tmp_path: Path,
                                                  how: str) -> None:
    data = os.urandom(2 * CHUNK + 5)
    entry = storage.put_file(old_file(tmp_path / "src" / "weights.pt", data), "weights.pt")
    assert entry.blob is not None
    _damage(storage, entry.blob, how)
    out = tmp_path / "out"
    with pytest.raises(DecryptionError, match=r"my-model:v2, file weights.pt"):
        storage.fetch(entry, out / "weights.pt", what="artifact my-model:v2")
    assert not out.exists() or list(out.iterdir()) == []
    assert not storage.cache.has(entry.digest)
    assert list(storage.temp_dir.iterdir()) == []


def test_a_missing_blob_names_the_artifact_and_file(storage: BlobVault,
                                                    tmp_path: Path) -> None:
    entry = storage.put_file(old_file(tmp_path / "x.csv", b"a,b\n"))
    assert entry.blob is not None
    storage.store.delete(entry.blob)
    (tmp_path / "x.csv").write_bytes(b"changed")  # nor are the bytes anywhere here
    with pytest.raises(BlobNotFoundError, match=r"artifact data:v0, file x.csv: blob"):
        storage.fetch(entry, tmp_path / "out" / "x.csv", what="artifact data:v0")
    assert not (tmp_path / "out" / "x.csv").exists()


def test_a_blob_the_store_lost_is_read_from_the_file_logged_here(storage: BlobVault,
                                                                 tmp_path: Path) -> None:
    """A teammate's purge removed a blob this clone found in the store when it logged the same
    bytes: the file logged here still has them (verified), through the local cache."""
    source = tmp_path / "x.csv"
    source.write_bytes(b"just written\n")  # racily clean: a source all the same
    entry = storage.put_file(source)
    assert entry.blob is not None
    storage.store.delete(entry.blob)
    storage.fetch(entry, tmp_path / "out" / "x.csv")
    assert (tmp_path / "out" / "x.csv").read_bytes() == b"just written\n"
    assert storage.cache.has(entry.digest)


def test_a_missing_source_file(storage: BlobVault, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope.bin"):
        storage.put_files([("nope.bin", tmp_path / "nope.bin")])


def test_a_file_that_changes_while_hashed(storage: BlobVault, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    src = old_file(tmp_path / "growing.log", b"x" * 1000)
    real = storage_module.hash_file

    def appending(path: Path) -> tuple[str, int]:
        with path.open("ab") as f:  # another process writes while we read
            f.write(b"more")
        return real(path)

    monkeypatch.setattr(storage_module, "hash_file", appending)
    with pytest.raises(UsageError, match=r"changed while"):
        storage.put_files([("growing.log", src)])


def test_a_file_rewritten_before_upload_is_refused_and_not_stored(
    storage: BlobVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = old_file(tmp_path / "data.bin", b"first version")
    real = storage.store.missing

    def rewrite_then_check(names: Any, **options: Any) -> set[str]:
        src.write_bytes(b"second version!")  # between hashing and upload
        return real(names, **options)

    monkeypatch.setattr(storage.store, "missing", rewrite_then_check)
    with pytest.raises(UsageError, match=r"changed while it was stored"):
        storage.put_files([("data.bin", src)])
    assert list(storage.store.iter_blobs()) == []


def test_storage_refusing_writes(tmp_path: Path, make_storage: MakeStorage) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    storage = make_storage((str(blocker / "store"), {}))
    with pytest.raises(StorageError, match=r"a-file"):
        storage.put_files([("x", old_file(tmp_path / "x", b"data"))])


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=64),
    st.integers(min_value=CHUNK - 2, max_value=CHUNK + 2).map(os.urandom),
    st.integers(min_value=2 * CHUNK - 1, max_value=2 * CHUNK + 1).map(os.urandom),
), private=st.booleans())
def test_bytes_survive_the_store_across_chunk_boundaries(
    data: bytes, private: bool, tmp_path: Path, make_storage: MakeStorage,
    project_keys: ProjectKeys,
) -> None:
    storage = make_storage((str(tmp_path / "store"), {}), project_keys if private else None)
    name = uuid.uuid4().hex
    entry = storage.put_file(old_file(tmp_path / "in" / name, data))
    assert storage.fetch(entry, tmp_path / "out" / name).read_bytes() == data


def test_a_blob_encrypted_to_another_key(location: Location, make_storage: MakeStorage,
                                         project_keys: ProjectKeys, tmp_path: Path) -> None:
    from gittrack.crypto.age import encrypt_file, generate_identity, parse_recipient

    storage = make_storage(location, project_keys)
    entry = storage.put_file(old_file(tmp_path / "w.bin", b"weights"))
    assert entry.blob is not None
    foreign = tmp_path / "foreign.age"
    encrypt_file(old_file(tmp_path / "other", b"weights"), foreign,
                 [parse_recipient(generate_identity()[1])])
    storage.store.put_file(entry.blob, foreign)
    with pytest.raises(DecryptionError, match=r"^artifact m:v1, file w.bin: "):
        storage.fetch(entry, tmp_path / "out" / "w.bin", what="artifact m:v1")
    assert not (tmp_path / "out" / "w.bin").exists()


def test_second_put_lists_nothing_and_checks_only_a_sample(
    storage: BlobVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [(f"d/{i}", old_file(tmp_path / "d" / str(i), os.urandom(50 + i))) for i in range(40)]
    first = storage.put_files(files)
    listings = spy(monkeypatch, storage.store, "_find")
    checks = spy(monkeypatch, storage.store, "exists")
    lookups = spy(monkeypatch, storage.stat_cache, "lookup")
    assert storage.put_files(files) == first
    assert listings == [] and len(checks) <= 4
    assert lookups == []  # one bulk read (lookup_many), not one lookup per file


def test_a_store_emptied_behind_our_back_gets_every_blob_again(
    storage: BlobVault, tmp_path: Path
) -> None:
    files = [(f"f{i}", old_file(tmp_path / f"f{i}", os.urandom(64))) for i in range(40)]
    entries = storage.put_files(files)
    for blob in storage.store.iter_blobs():  # another tool, not gittrack: no forgetting
        storage.store.fs.rm_file(storage.store.path(blob.name))
    assert storage.put_files(files) == entries
    assert {b.name for b in storage.store.iter_blobs()} == {e.blob for e in entries}


def test_a_failed_put_keeps_the_digests_it_computed(
    location: Location, make_storage: MakeStorage, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = make_storage(location, workers=1)  # in order: the failing file comes last
    files = [(f"f{i}", old_file(tmp_path / f"f{i}", os.urandom(64))) for i in range(6)]
    real = storage_module.hash_file

    def failing(path: Path) -> tuple[str, int]:
        if path.name == "f5":
            raise UsageError(f"cannot read {path}")
        return real(path)

    monkeypatch.setattr(storage_module, "hash_file", failing)
    with pytest.raises(UsageError, match="f5"):
        storage.put_files(files)
    monkeypatch.setattr(storage_module, "hash_file", real)
    hashes = spy(monkeypatch, storage_module, "hash_file")
    storage.put_files(files)
    assert [Path(args[0]).name for args in hashes] == ["f5"]  # the others were recorded
