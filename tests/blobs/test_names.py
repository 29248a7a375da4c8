from __future__ import annotations

import pytest

from gittrack.blobs import names
from gittrack.errors import StorageError


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
