"""``storage.entry``: a stored file's digest and blob name, apart from a reference's checksum."""

from __future__ import annotations

import pytest

from gittrack.errors import StorageError
from gittrack.storage.entry import ManifestEntry, stored
from gittrack.types import BlobName, Checksum, Digest

DIGEST = Digest("ab" * 32)


def test_a_stored_file_has_a_blob_and_a_digest() -> None:
    entry = ManifestEntry("a.bin", DIGEST, 3, BlobName("cd" * 32))
    assert entry.sha256 == DIGEST
    assert stored(entry) == ("cd" * 32, DIGEST)


def test_a_local_reference_has_a_digest_and_no_blob() -> None:
    entry = ManifestEntry("a.bin", DIGEST, 3, ref="file:///data/a.bin")
    assert entry.sha256 == DIGEST
    with pytest.raises(StorageError, match="recorded by reference"):
        stored(entry)


def test_a_remote_reference_has_a_checksum_not_a_digest() -> None:
    entry = ManifestEntry("a.bin", Checksum("etag:0123"), 3, ref="s3://bucket/a.bin")
    assert entry.sha256 is None
    with pytest.raises(StorageError, match="recorded by reference"):
        stored(entry)


def test_a_row_naming_a_blob_without_a_sha256_is_no_stored_file() -> None:
    entry = ManifestEntry("a.bin", Checksum("etag:0123"), 3, BlobName("cd" * 32))
    with pytest.raises(StorageError, match="not a sha256"):
        stored(entry)
