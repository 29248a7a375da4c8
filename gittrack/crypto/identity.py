"""The user's own identity: a secret kept in their home (or the environment), never in git.

Looked up, in order: the identity file (``$GITTRACK_IDENTITY_FILE``, else
``$XDG_CONFIG_HOME/gittrack/identity.txt``), the secret itself in ``$GITTRACK_IDENTITY`` (for
CI), then ``~/.ssh/id_ed25519`` and ``~/.ssh/id_rsa`` when they have no passphrase, so a
member added by the SSH key they already use with git needs nothing else.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from gittrack.atomic import create_exclusive, reason
from gittrack.crypto.age import (
    Identity,
    generate_identity,
    parse_identities,
    parse_recipient,
    public_key,
)
from gittrack.errors import CryptoError, UsageError

IDENTITY_FILE_ENV = "GITTRACK_IDENTITY_FILE"
IDENTITY_ENV = "GITTRACK_IDENTITY"
SSH_KEYS = ("id_ed25519", "id_rsa")


def user_identity_file() -> Path:
    explicit = os.environ.get(IDENTITY_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(config) if config and os.path.isabs(config) else Path.home() / ".config"
    return base / "gittrack" / "identity.txt"


def load_user_identities() -> list[Identity]:
    """Every identity of the user's that gittrack can find (possibly none)."""
    identities: list[Identity] = []
    path = user_identity_file()
    if path.is_file():
        identities += _read_identity_file(path)
    secret = os.environ.get(IDENTITY_ENV)
    if secret:
        identities += _parse(secret, f"${IDENTITY_ENV}")
    return identities + _ssh_identities()


def init_user_identity() -> tuple[str, Path, bool]:
    """(public recipient, identity file, created?): adopt the file if it exists, else create
    it with a new X25519 identity, readable by the user only (mode 0600)."""
    path = user_identity_file()
    if path.exists():
        return _public_of(path), path, False
    secret, public = generate_identity()
    try:
        create_exclusive(path, _identity_text(secret, public).encode(), mode=0o600,
                         error=CryptoError)
    except FileExistsError:  # another process made one meanwhile: theirs is the one in use
        return _public_of(path), path, False
    return public, path, True


def check_outside(path: Path, work_tree: Path) -> None:
    """Refuse a secret inside a git work tree, where one `git add -A` would publish it."""
    resolved, tree = path.expanduser().resolve(), work_tree.resolve()
    if resolved == tree or tree in resolved.parents:
        raise UsageError(
            f"the identity file {path} is inside the git work tree {work_tree}: a secret must "
            f"never be where git can commit it; set {IDENTITY_FILE_ENV} to a path outside it"
        )


def _read_identity_file(path: Path) -> list[Identity]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = reason(exc) if isinstance(exc, OSError) else "not UTF-8 text"
        raise CryptoError(f"cannot read the identity file {path}: {detail}") from None
    return _parse(text, f"the identity file {path}")


def _parse(text: str, where: str) -> list[Identity]:
    try:
        return parse_identities(text)
    except CryptoError as exc:
        raise CryptoError(f"{where}: {exc}") from None


def _ssh_identities() -> list[Identity]:
    found: list[Identity] = []
    for name in SSH_KEYS:
        path = Path.home() / ".ssh" / name
        try:
            if path.is_file():
                found += parse_identities(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, CryptoError):
            continue  # passphrase-protected or unreadable: not usable, and not an error
    return found


def _public_of(path: Path) -> str:
    """The public key of an identity file: its first age identity's, or its ``.pub`` twin's
    for an SSH private key (pyrage cannot derive an SSH public key)."""
    for identity in _read_identity_file(path):
        public = public_key(identity)
        if public is not None:
            return public
    pub = path.with_name(path.name + ".pub")
    try:
        line = pub.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise CryptoError(
            f"{path} holds an SSH key without its public half {pub}: put it there, or use an "
            "age identity"
        ) from None
    parse_recipient(line)
    return line


def _identity_text(secret: str, public: str) -> str:
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return (
        "# gittrack identity: keep this file private; never commit it or share it.\n"
        f"# created: {created}\n"
        f"# public key: {public}\n"
        f"{secret}\n"
    )
