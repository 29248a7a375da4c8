"""The API sync, gc, purge and re-encryption use instead of the vault's parts: on a real folder
store, public and private (real age keys)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gittrack.blobs.store import BlobStore
from gittrack.crypto.age import generate_identity
from gittrack.crypto.keys import ProjectKeys
from gittrack.errors import KeyMissingError
from gittrack.storage.entry import ManifestEntry
from gittrack.storage.vault import BlobVault
from tests.helpers.storage import MakeStorage, old_file


@pytest.fixture
def folder(tmp_path: Path) -> tuple[str, dict[str, str]]:
    return str(tmp_path / "store"), {}


@pytest.fixture
def public(make_storage: MakeStorage, folder: tuple[str, dict[str, str]]) -> BlobVault:
    return make_storage(folder)


@pytest.fixture
def private(make_storage: MakeStorage, folder: tuple[str, dict[str, str]],
            project_keys: ProjectKeys) -> BlobVault:
    return make_storage(folder, keys=project_keys)


def stored(vault: BlobVault, tmp_path: Path, data: bytes = b"some bytes") -> ManifestEntry:
    return vault.put_file(old_file(tmp_path / "f.bin", data))


def raw(vault: BlobVault, blob: str) -> bytes:
    with vault.store.open(blob) as src:
        return src.read()


def test_upload_plain_stores_as_is_or_encrypted(private: BlobVault, tmp_path: Path) -> None:
    plain = old_file(tmp_path / "p.bin", b"plaintext")
    private.upload_plain("a" * 64, plain, encrypt=False)
    assert raw(private, "a" * 64) == b"plaintext"
    seen: list[bool] = []
    private.upload_plain("b" * 64, plain, encrypt=True,
                         encrypted=lambda: seen.append(private.has_blob("b" * 64)))
    assert seen == [False]  # called once, before the upload
    assert raw(private, "b" * 64) != b"plaintext"
    assert list((tmp_path / "state").glob("**/tmp/*")) == []  # the temporary file is gone


def test_upload_from_cache_restores_a_lost_blob(private: BlobVault, tmp_path: Path) -> None:
    entry = stored(private, tmp_path)
    assert entry.blob is not None and entry.blob != entry.digest
    private.cached(entry)
    private.delete(entry.blob)
    assert private.missing([entry.blob]) == {entry.blob}
    assert private.names_with_newest_key(entry) and private.has_plaintext(entry.digest)
    private.upload_from_cache(entry)
    private.uncache(entry.digest)
    assert private.fetch(entry, tmp_path / "out.bin").read_bytes() == b"some bytes"


def test_copy_from_another_store(public: BlobVault, tmp_path: Path) -> None:
    other = BlobStore.from_url(str(tmp_path / "other"))
    plain = old_file(tmp_path / "p.bin", b"elsewhere")
    other.put_file("c" * 64, plain)
    public.copy_from(other, "c" * 64)
    assert raw(public, "c" * 64) == b"elsewhere"


def test_rewrap_moves_a_blob_to_the_new_key(make_storage: MakeStorage,
                                            folder: tuple[str, dict[str, str]],
                                            tmp_path: Path) -> None:
    old_secret, new_secret = generate_identity()[0], generate_identity()[0]
    entry = stored(make_storage(folder, keys=ProjectKeys.from_secrets([old_secret])), tmp_path)
    assert entry.blob is not None
    new_keys = ProjectKeys.from_secrets([new_secret, old_secret])  # a rotation: newest first
    vault = make_storage(folder, keys=new_keys)
    assert vault.rewrap(entry, {entry.blob}, new_keys) == ("rewritten", 1)
    target = new_keys.blob_name(entry.digest)
    assert vault.has_blob(target) and not vault.has_blob(entry.blob)
    assert vault.rewrap(entry, {entry.blob}, new_keys) == ("current", 0)
    vault.uncache(entry.digest)
    moved = dataclasses.replace(entry, blob=target)
    assert vault.fetch(moved, tmp_path / "out.bin").read_bytes() == b"some bytes"
    gone = dataclasses.replace(entry, digest="d" * 64, blob="e" * 64)
    assert vault.rewrap(gone, {"e" * 64}, new_keys) == ("missing", 0)


def test_temps_are_listed_and_deleted(public: BlobVault, tmp_path: Path) -> None:
    entry = stored(public, tmp_path)
    assert entry.blob is not None
    temp = Path(public.store.path(entry.blob) + ".tmp-0123")
    temp.write_bytes(b"half")
    found = dict(public.temps())
    assert list(found) == [str(temp)] and found[str(temp)] is not None
    public.delete_temp(str(temp))
    public.delete_temp(str(temp))  # gone already: not an error
    assert list(public.temps()) == [] and [b.name for b in public.iter_blobs()] == [entry.blob]


def test_cache_entries_and_sources(public: BlobVault, tmp_path: Path) -> None:
    entry = stored(public, tmp_path)
    public.cached(entry)
    assert [digest for _, digest in public.cache_entries()] == [entry.digest]
    assert public.is_cached(entry.digest)
    public.uncache(entry.digest)
    assert list(public.cache_entries()) == [] and not public.is_cached(entry.digest)
    assert public.source_digests() == {entry.digest}
    public.forget_sources({entry.digest})
    assert not public.source_digests()


def test_names_without_keys(public: BlobVault, tmp_path: Path) -> None:
    entry = stored(public, tmp_path)
    assert entry.blob == entry.digest and public.names_with_newest_key(entry)
    encrypted = dataclasses.replace(entry, blob="f" * 64)
    assert not public.names_with_newest_key(encrypted)
    with pytest.raises(KeyMissingError):
        public.newest_name(entry.digest)
