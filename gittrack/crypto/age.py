"""age encryption through pyrage: keys parsed from text, files and bytes encrypted and decrypted.

Files stream through pyrage's ``*_io`` functions over our own buffered file objects, so memory
stays flat whatever the size, and I/O errors surface from Python's ``close`` (pyrage drops an
error on its last write). Outputs appear atomically: a wrong key or a truncated or tampered
input never leaves bytes at the destination, which matters because age only detects a
truncation after it has written the plaintext before it (https://age-encryption.org/v1).

Example::

    secret, public = generate_identity()
    encrypt_file(Path("model.pt"), Path("model.pt.age"), [parse_recipient(public)])
    decrypt_file(Path("model.pt.age"), Path("copy.pt"), parse_identities(secret))

pyrage's exceptions never escape: ``CryptoError`` and its subclasses do, and their messages
never quote a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyrage
from pyrage import ssh, x25519

from gittrack.atomic import BUFFER, atomic_output, reason
from gittrack.errors import CryptoError, DecryptionError, KeyMissingError

Recipient = Any
"""A pyrage recipient (``x25519.Recipient`` or ``ssh.Recipient``): pyrage ships no types."""
Identity = Any
"""A pyrage identity (``x25519.Identity`` or ``ssh.Identity``)."""

_SSH_TYPES = ("ssh-ed25519", "ssh-rsa")
_AGE_SECRET_PREFIX = "AGE-SECRET-KEY-1"
_NO_MATCH = "No matching keys found"  # pyrage's message when no identity opens the header


def parse_recipient(text: str) -> Recipient:
    """``age1...``, or an ``ssh-ed25519``/``ssh-rsa`` public key line (comment allowed)."""
    line = " ".join(text.split())
    if looks_secret(text):  # never echo a private key into an error message or a log
        raise CryptoError("that is a private key: give the public key (age1... or a .pub line)")
    kind = line.split(" ", 1)[0]
    try:
        if line.startswith("age1"):
            return x25519.Recipient.from_str(line)
        if kind in _SSH_TYPES:
            return ssh.Recipient.from_str(line)
    except pyrage.RecipientError as exc:
        raise CryptoError(f"{_shorten(line)!r} is not a valid recipient: {exc}") from None
    raise CryptoError(
        f"{_shorten(line)!r} is not a recipient gittrack can use: "
        "expected age1..., or an ssh-ed25519 or ssh-rsa public key"
    )


def recipient_kind(text: str) -> str:
    """``age``, ``ssh-ed25519`` or ``ssh-rsa``, for people reading a member list."""
    return "age" if text.startswith("age1") else text.split(" ", 1)[0]


def parse_identities(text: str) -> list[Identity]:
    """An age identity file (``AGE-SECRET-KEY-1...`` lines, ``#`` comments, blank lines), or
    an unencrypted OpenSSH private key. Errors name line numbers, never the secret."""
    if "-----BEGIN " in text:
        return [_ssh_identity(text)]
    identities = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            identities.append(_age_identity(line, number))
    if not identities:
        raise CryptoError(f"no identity found (expected {_AGE_SECRET_PREFIX}... lines)")
    return identities


def generate_identity() -> tuple[str, str]:
    """A new X25519 identity: (secret ``AGE-SECRET-KEY-1...``, public ``age1...``)."""
    identity = x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def public_key(identity: Identity) -> str | None:
    """The ``age1...`` recipient of an X25519 identity; ``None`` for an SSH identity."""
    if isinstance(identity, x25519.Identity):
        return str(identity.to_public())
    return None


def looks_secret(text: str) -> bool:
    """An age secret (either case: bech32 allows both) or a PEM private key block."""
    return "AGE-SECRET-KEY-" in text.upper() or "PRIVATE KEY-----" in text


def encrypt_file(src: Path, dst: Path, recipients: Sequence[Recipient]) -> None:
    """Encrypt ``src`` to ``dst`` (streaming; ``dst`` appears whole or not at all)."""
    _need_recipients(recipients)
    with _open_input(src, "encrypt") as reader, atomic_output(dst, error=CryptoError) as writer:
        try:
            pyrage.encrypt_io(reader, writer, list(recipients))
        except (pyrage.EncryptError, OSError) as exc:
            raise CryptoError(f"cannot encrypt {src} to {dst}: {exc}") from None


def decrypt_file(src: Path, dst: Path, identities: Sequence[Identity]) -> None:
    """Decrypt ``src`` to ``dst``: a wrong key or a damaged ``src`` raises ``DecryptionError``
    and leaves ``dst`` as it was."""
    _need_identities(identities, src)
    with _open_input(src, "decrypt") as reader, atomic_output(dst, error=CryptoError) as writer:
        try:
            pyrage.decrypt_io(reader, writer, list(identities))
        except pyrage.DecryptError as exc:
            raise _header_error(str(src), exc) from None
        except OSError as exc:
            raise _stream_error(src, dst, exc) from None


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    _need_recipients(recipients)
    try:
        return bytes(pyrage.encrypt(data, list(recipients)))
    except pyrage.EncryptError as exc:
        raise CryptoError(f"cannot encrypt: {exc}") from None


def decrypt_bytes(data: bytes, identities: Sequence[Identity]) -> bytes:
    _need_identities(identities, "the data")
    plain = try_decrypt_bytes(data, identities)
    if plain is None:
        raise DecryptionError(_no_match_message("the data"))
    return plain


def try_decrypt_bytes(data: bytes, identities: Sequence[Identity]) -> bytes | None:
    """The plaintext, or ``None`` when no identity matches (the caller says whose key is
    missing); damaged data still raises ``DecryptionError``."""
    try:
        return bytes(pyrage.decrypt(data, list(identities)))
    except pyrage.DecryptError as exc:
        if str(exc) == _NO_MATCH:
            return None
        raise _header_error("the data", exc) from None


def _age_identity(line: str, number: int) -> Identity:
    if not line.upper().startswith(_AGE_SECRET_PREFIX):
        raise CryptoError(f"line {number} is not an age identity ({_AGE_SECRET_PREFIX}...)")
    try:
        return x25519.Identity.from_str(line)
    except pyrage.IdentityError:
        raise CryptoError(f"line {number} is not a valid age identity") from None


def _ssh_identity(text: str) -> Identity:
    try:
        return ssh.Identity.from_buffer(text.encode())
    except pyrage.IdentityError as exc:
        if "decrypted" in str(exc):
            raise CryptoError(
                "the SSH private key is protected by a passphrase, which gittrack cannot use: "
                "use an age identity (`gittrack keys init`)"
            ) from None
        raise CryptoError(f"not a usable SSH private key: {exc}") from None


def _open_input(src: Path, verb: str) -> BinaryIO:
    try:
        return open(src, "rb", buffering=BUFFER)  # the caller closes it (a with block)
    except OSError as exc:
        raise CryptoError(f"cannot {verb} {src}: {reason(exc)}") from None


def _need_recipients(recipients: Sequence[Recipient]) -> None:
    if not recipients:
        raise CryptoError("cannot encrypt to no one: no recipient given")


def _need_identities(identities: Sequence[Identity], what: object) -> None:
    if not identities:
        raise KeyMissingError(f"no identity to decrypt {what} with")


def _header_error(what: str, exc: Exception) -> DecryptionError:
    if str(exc) == _NO_MATCH:
        return DecryptionError(_no_match_message(what))
    return DecryptionError(f"{what} is not a valid age file, or is truncated: {exc}")


def _no_match_message(what: str) -> str:
    return f"none of the identities given can decrypt {what} (wrong key, or a damaged header)"


def _stream_error(src: Path, dst: Path, exc: OSError) -> CryptoError:
    if exc.errno is not None:  # raised by our own file objects: the disk, not the data
        return CryptoError(f"cannot decrypt {src} to {dst}: {reason(exc)}")
    return DecryptionError(f"{src} is truncated or was tampered with ({exc}): nothing written")


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
