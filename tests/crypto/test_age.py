from __future__ import annotations

import os
import random
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittrack.crypto.age import (
    decrypt_bytes,
    decrypt_file,
    encrypt_bytes,
    encrypt_file,
    generate_identity,
    parse_identities,
    parse_recipient,
    public_key,
    recipient_kind,
    try_decrypt_bytes,
)
from gittrack.errors import CryptoError, DecryptionError, KeyMissingError
from tests.helpers.tools import age_cli, ssh_keypair

CHUNK = 64 * 1024  # age's payload chunk: sizes around its multiples are the edge cases
SIZES = st.one_of(
    st.integers(0, 3 * CHUNK + 10),
    st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1]),
)


def keypair() -> tuple[list[object], list[object], str]:
    """(identities, recipients, secret) of a new X25519 identity."""
    secret, public = generate_identity()
    return parse_identities(secret), [parse_recipient(public)], secret


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


IDENTITIES, RECIPIENTS, _ = keypair()


@given(st.binary(max_size=3 * CHUNK))
def test_bytes_round_trip(data: bytes) -> None:
    assert decrypt_bytes(encrypt_bytes(data, RECIPIENTS), IDENTITIES) == data


@given(SIZES, st.integers(0, 2**32))
def test_file_round_trip_across_chunk_boundaries(size: int, seed: int) -> None:
    data = random_bytes(size, seed)
    with tempfile.TemporaryDirectory() as folder:
        src, enc, out = Path(folder, "src"), Path(folder, "enc.age"), Path(folder, "out")
        write(src, data)
        encrypt_file(src, enc, RECIPIENTS)
        decrypt_file(enc, out, IDENTITIES)
        assert out.read_bytes() == data
        assert decrypt_bytes(enc.read_bytes(), IDENTITIES) == data
        assert leftovers(Path(folder)) == []


def test_any_of_several_recipients_decrypts(tmp_path: Path) -> None:
    a, b = keypair(), keypair()
    enc = tmp_path / "x.age"
    encrypt_file(write(tmp_path / "x", b"shared"), enc, [*a[1], *b[1]])
    for identities, _, _ in (a, b):
        decrypt_file(enc, tmp_path / "out", identities)
        assert (tmp_path / "out").read_bytes() == b"shared"


@pytest.fixture
def blob(tmp_path: Path) -> Path:
    """An encrypted file of three chunks and a bit, and a destination that already exists."""
    encrypt_file(write(tmp_path / "plain", random_bytes(3 * CHUNK + 5, 1)), tmp_path / "blob",
                 RECIPIENTS)
    write(tmp_path / "dst", b"previous content")
    return tmp_path / "blob"


def assert_untouched(folder: Path) -> None:
    assert (folder / "dst").read_bytes() == b"previous content"
    assert leftovers(folder) == []


def test_wrong_key_leaves_the_destination_untouched(blob: Path) -> None:
    other, _, _ = keypair()
    with pytest.raises(DecryptionError, match="wrong key"):
        decrypt_file(blob, blob.with_name("dst"), other)
    assert_untouched(blob.parent)
    with pytest.raises(DecryptionError):
        decrypt_bytes(blob.read_bytes(), other)
    assert try_decrypt_bytes(blob.read_bytes(), other) is None


def test_missing_key(blob: Path) -> None:
    with pytest.raises(KeyMissingError):
        decrypt_file(blob, blob.with_name("dst"), [])
    assert_untouched(blob.parent)
    with pytest.raises(KeyMissingError):
        decrypt_bytes(blob.read_bytes(), [])


@given(st.data())
def test_truncated_blob_writes_nothing(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        enc = folder / "blob"
        encrypt_file(write(folder / "plain", random_bytes(2 * CHUNK + 3, 2)), enc, RECIPIENTS)
        whole = enc.read_bytes()
        # Counted from the end: age's header has a random-length "grease" stanza. The sampled
        # cuts fall on chunk boundaries (16-byte tags), which only the last-chunk flag reveals.
        from_end = data.draw(st.one_of(st.integers(1, 2 * CHUNK + 600),
                                       st.sampled_from([3 + 16, 3 + 16 + CHUNK + 16])))
        cut = max(0, len(whole) - from_end)
        write(enc, whole[:cut])
        write(folder / "dst", b"previous content")
        with pytest.raises(DecryptionError, match=re.escape(str(enc))):
            decrypt_file(enc, folder / "dst", IDENTITIES)
        assert_untouched(folder)
        with pytest.raises(DecryptionError):
            decrypt_bytes(whole[:cut], IDENTITIES)


@given(st.data())
def test_tampered_blob_writes_nothing(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        enc = folder / "blob"
        encrypt_file(write(folder / "plain", random_bytes(CHUNK + 3, 3)), enc, RECIPIENTS)
        tampered = bytearray(enc.read_bytes())
        where = data.draw(st.integers(0, 2**20 - 1)) * len(tampered) // 2**20  # length varies
        tampered[where] ^= data.draw(st.integers(1, 255))
        write(enc, bytes(tampered))
        write(folder / "dst", b"previous content")
        with pytest.raises(DecryptionError):
            decrypt_file(enc, folder / "dst", IDENTITIES)
        assert_untouched(folder)


def test_unreadable_or_unwritable_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="missing"):
        encrypt_file(tmp_path / "missing", tmp_path / "out", RECIPIENTS)
    src = write(tmp_path / "src", b"x")
    with pytest.raises(CryptoError, match="no-such-folder"):
        encrypt_file(src, tmp_path / "no-such-folder" / "out", RECIPIENTS)
    with pytest.raises(CryptoError, match="no recipient"):
        encrypt_file(src, tmp_path / "out", [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_parse_recipient_kinds_and_errors(tmp_path: Path) -> None:
    _, public = generate_identity()
    assert str(parse_recipient(f"  {public}\n")) == public
    assert recipient_kind(public) == "age"
    for bad in ("age1notakey", "ssh-dss AAAA", "hello", ""):
        with pytest.raises(CryptoError, match="recipient"):
            parse_recipient(bad)


def test_a_secret_given_as_recipient_is_refused_without_echo() -> None:
    secret, _ = generate_identity()
    for text in (secret, secret.lower(), "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"):
        with pytest.raises(CryptoError, match="private key") as caught:
            parse_recipient(text)
        assert secret[20:40] not in str(caught.value)


def test_parse_identities_file_format() -> None:
    one, two = generate_identity(), generate_identity()
    text = f"# created: today\n# public key: {one[1]}\n{one[0]}\n\n  {two[0]}  \n"
    parsed = parse_identities(text)
    assert [public_key(i) for i in parsed] == [one[1], two[1]]


def test_parse_identities_errors_never_quote_the_secret() -> None:
    secret, _ = generate_identity()
    broken = secret[:-4] + "qqqq"  # a bad checksum
    for text, match in ((f"# c\n{broken}\n", "line 2"), ("hello\n", "line 1"), ("# only\n", "no")):
        with pytest.raises(CryptoError, match=match) as caught:
            parse_identities(text)
        assert secret[16:40] not in str(caught.value)


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_ssh_keys_round_trip(tmp_path: Path, kind: str) -> None:
    key, public = ssh_keypair(tmp_path, kind)
    assert recipient_kind(public) == f"ssh-{kind}"
    identities = parse_identities(key.read_text())
    assert public_key(identities[0]) is None
    enc = encrypt_bytes(b"over ssh", [parse_recipient(public)])
    assert decrypt_bytes(enc, identities) == b"over ssh"


def test_passphrase_protected_ssh_key_is_explained(tmp_path: Path) -> None:
    key, _ = ssh_keypair(tmp_path, "ed25519", passphrase="hunter22")
    with pytest.raises(CryptoError, match="passphrase"):
        parse_identities(key.read_text())


# Interop with the real `age` command line, both ways.


def make_keys(kind: str, folder: Path) -> tuple[Path, str]:
    """(identity file, public key) of a new key of ``kind``."""
    if kind == "x25519":
        secret, public = generate_identity()
        return write(folder / "identity.txt", f"{secret}\n".encode()), public
    return ssh_keypair(folder, kind.removeprefix("ssh-"))


KINDS = ["x25519", "ssh-ed25519", "ssh-rsa"]


@pytest.mark.parametrize("kind", KINDS)
def test_age_cli_encrypts_pyrage_decrypts(tmp_path: Path, kind: str) -> None:
    identity_file, public = make_keys(kind, tmp_path)
    data = random_bytes(CHUNK * 2 + 7, 4)
    write(tmp_path / "plain", data)
    age_cli("-r", public, "-o", str(tmp_path / "enc"), str(tmp_path / "plain"))
    decrypt_file(tmp_path / "enc", tmp_path / "out",
                 parse_identities(identity_file.read_text()))
    assert (tmp_path / "out").read_bytes() == data


@pytest.mark.parametrize("kind", KINDS)
def test_pyrage_encrypts_age_cli_decrypts(tmp_path: Path, kind: str) -> None:
    identity_file, public = make_keys(kind, tmp_path)
    data = random_bytes(CHUNK * 2 + 7, 5)
    encrypt_file(write(tmp_path / "plain", data), tmp_path / "enc", [parse_recipient(public)])
    assert age_cli("-d", "-i", str(identity_file), str(tmp_path / "enc")) == data


def test_output_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        encrypt_file(write(tmp_path / "src", b"x"), tmp_path / "out", RECIPIENTS)
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o640
