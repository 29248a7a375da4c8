from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gittrack.atomic import (
    atomic_output,
    copy_atomic,
    create_exclusive,
    replacing,
    write_atomic,
)
from gittrack.errors import CryptoError, GittrackError, StorageError


def test_the_output_appears_only_when_the_block_succeeds(tmp_path: Path) -> None:
    dst = tmp_path / "out"
    dst.write_bytes(b"before")
    with pytest.raises(RuntimeError), atomic_output(dst) as out:
        out.write(b"half")
        raise RuntimeError("failed half-way")
    assert dst.read_bytes() == b"before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    write_atomic(dst, b"after")
    assert dst.read_bytes() == b"after"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_missing_folder_is_named_in_the_error_class_asked_for(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="nowhere"):
        write_atomic(tmp_path / "nowhere" / "out", b"x", error=CryptoError)
    with pytest.raises(GittrackError, match="nowhere"):
        write_atomic(tmp_path / "nowhere" / "out", b"x")


def test_a_long_name_still_has_a_temporary_sibling(tmp_path: Path) -> None:
    dst = tmp_path / ("x" * 250)
    write_atomic(dst, b"data", fsync=True)
    assert dst.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == [dst.name]


def test_replacing_renames_the_path_the_block_filled_or_nothing(tmp_path: Path) -> None:
    dst = tmp_path / "out"
    with pytest.raises(StorageError), replacing(dst) as temp:
        temp.write_bytes(b"checked and refused")
        raise StorageError("refused")
    assert not dst.exists()
    with replacing(dst, tmp_path / "out.tmp-mark") as temp:
        assert temp.name == "out.tmp-mark"
        temp.write_bytes(b"whole")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert dst.read_bytes() == b"whole"


def test_copy_atomic(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"bytes")
    copy_atomic(src, tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == b"bytes"
    with pytest.raises(FileNotFoundError):
        copy_atomic(tmp_path / "missing", tmp_path / "dst")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst", "src"]


def test_create_exclusive_never_replaces_a_file(tmp_path: Path) -> None:
    dst = tmp_path / "private" / "secret.txt"
    create_exclusive(dst, b"first", mode=0o600, error=CryptoError)
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    assert stat.S_IMODE(dst.parent.stat().st_mode) == 0o700
    with pytest.raises(FileExistsError):
        create_exclusive(dst, b"second", mode=0o600)
    assert dst.read_bytes() == b"first"
    assert sorted(p.name for p in dst.parent.iterdir()) == ["secret.txt"]


def test_parents_are_made_on_request(tmp_path: Path) -> None:
    dst = tmp_path / "a" / "b" / "out"
    write_atomic(dst, b"x", parents=True)
    assert dst.read_bytes() == b"x"
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(CryptoError, match="cannot create"):
        write_atomic(tmp_path / "file" / "sub" / "out", b"x", error=CryptoError, parents=True)
