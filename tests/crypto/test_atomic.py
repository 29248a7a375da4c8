from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gittrack.atomic import atomic_output, create_exclusive, write_atomic
from gittrack.errors import CryptoError


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


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="nowhere"):
        write_atomic(tmp_path / "nowhere" / "out", b"x")


def test_create_exclusive_never_replaces_a_file(tmp_path: Path) -> None:
    dst = tmp_path / "private" / "secret.txt"
    create_exclusive(dst, b"first", mode=0o600)
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    assert stat.S_IMODE(dst.parent.stat().st_mode) == 0o700
    with pytest.raises(FileExistsError):
        create_exclusive(dst, b"second", mode=0o600)
    assert dst.read_bytes() == b"first"
    assert sorted(p.name for p in dst.parent.iterdir()) == ["secret.txt"]
