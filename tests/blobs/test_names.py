from __future__ import annotations

import pytest

from gittrack.blobs import names
from gittrack.errors import StorageError
from gittrack.types import BlobName, Digest


@pytest.mark.parametrize("name", ["abc", "0" * 64, "deadbeef"])
def test_valid(name: str):
    assert names.check_name(name) == name
    assert names.is_name(name)
    assert names.shard(name) == (name[:2], name[2:])


@pytest.mark.parametrize(
    "name", ["", "ab", "ABC", "abg", "ab/cd", "..", "../abc", "abc\n", " abc", "ab.tmp-12"]
)
def test_invalid(name: str):
    assert not names.is_name(name)
    with pytest.raises(StorageError, match="invalid blob name"):
        names.check_name(name)
    with pytest.raises(StorageError):
        names.shard(name)


def test_non_strings_are_invalid():
    assert not names.is_name(123)  # type: ignore[arg-type]


def test_temp_names_are_unique_siblings_and_never_blob_names():
    first, second = names.temp_name("root/ab/cdef"), names.temp_name("root/ab/cdef")
    assert first != second
    assert first.startswith("root/ab/cdef")
    assert not names.is_name(first.rsplit("/", 1)[1])


@pytest.mark.parametrize(("value", "digest"), [
    ("0" * 64, True), ("ab" * 32, True), ("a" * 63, False), ("a" * 65, False),
    ("A" * 64, False), ("etag:" + "a" * 59, False), ("a" * 64 + "\n", False),
])
def test_digests_are_64_lowercase_hex_digits(value: str, digest: bool) -> None:
    assert names.is_digest(value) is digest


def test_a_public_blob_is_named_by_its_digest_and_holds_plaintext() -> None:
    digest = Digest("ab" * 32)
    assert names.public_blob_name(digest) == digest
    assert names.is_plaintext(names.public_blob_name(digest), digest)
    assert not names.is_plaintext(BlobName("cd" * 32), digest)
