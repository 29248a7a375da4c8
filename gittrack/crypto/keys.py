"""The project's keys: one project identity wraps the blobs; it is age-encrypted to each member.

``.gittrack/keys/`` in the work tree is committed and reviewed like code; it holds only public
material and ciphertext:

- ``members.yaml``: ``{name: recipient}`` (``age1...`` or an SSH public key line);
- ``project.pub``: the newest project recipient, for whoever only writes;
- ``project.age``: YAML ``{identities: [secret, ...]}`` (newest first), age-encrypted to
  every member: adding a member rewraps this one small file, and removing one rotates the
  project key (old identities are kept so old blobs stay readable by the remaining members).

This is the "hybrid" scheme git-annex and sops use. Example::

    keyring = Keyring.for_repo(repo)
    keys = keyring.unlock(load_user_identities())
    encrypt_file(src, dst, [keys.recipient]); name = keys.blob_name(digest)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from gittrack.atomic import reason, write_atomic
from gittrack.crypto.age import (
    Identity,
    Recipient,
    encrypt_bytes,
    generate_identity,
    parse_identities,
    parse_recipient,
    try_decrypt_bytes,
)
from gittrack.crypto.identity import (
    init_user_identity,
    load_user_identities,
    user_identity_file,
)
from gittrack.errors import (
    ConflictError,
    CryptoError,
    DecryptionError,
    FormatError,
    KeyMissingError,
    NotFoundError,
    RepositoryError,
    UsageError,
)
from gittrack.formats import yamlio
from gittrack.formats.values import text_problem
from gittrack.types import BlobName, Digest


class WorkTree(Protocol):
    """What the keyring needs of a repository (crypto sits beside ``git``, not above it)."""

    @property
    def is_bare(self) -> bool: ...
    @property
    def workdir(self) -> str | None: ...
    @property
    def path(self) -> str: ...

__all__ = [
    "KEYS_DIR",
    "Keyring",
    "ProjectKeys",
    "init_user_identity",
    "load_user_identities",
    "user_identity_file",
]

KEYS_DIR = Path(".gittrack") / "keys"
MEMBERS, PROJECT_PUB, PROJECT_AGE = "members.yaml", "project.pub", "project.age"
# project.age may contain no NUL byte and look like text to git, which could then rewrite its
# line endings (core.autocrlf) and corrupt it: say it is binary.
ATTRIBUTES, ATTRIBUTES_TEXT = ".gitattributes", "project.age binary\n"
_NAME_KEY_CONTEXT = b"gittrack blob names\0"
_MEMBER_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


@dataclasses.dataclass(frozen=True, slots=True)
class ProjectKeys:
    """The unlocked project keys: every identity ever used (newest first), the newest
    recipient for new data, and the key that names blobs."""

    identities: tuple[Identity, ...] = dataclasses.field(repr=False)
    recipient: Recipient
    name_key: bytes = dataclasses.field(repr=False)

    @classmethod
    def from_secrets(cls, secrets: Sequence[str]) -> ProjectKeys:
        identities = tuple(parse_identities("\n".join(secrets)))
        name_key = hashlib.sha256(_NAME_KEY_CONTEXT + secrets[0].encode()).digest()
        return cls(identities, identities[0].to_public(), name_key)

    def blob_name(self, digest: Digest) -> BlobName:
        """The store name of a blob: keyed, so the storage operator cannot test whether it
        holds some known content."""
        return BlobName(hmac.new(self.name_key, digest.encode(), hashlib.sha256).hexdigest())


class Keyring:
    """The files under ``.gittrack/keys/``; every write is atomic, file by file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_repo(cls, repo: WorkTree) -> Keyring:
        """The keyring in ``repo``'s work tree (a bare repository has none)."""
        if repo.is_bare or repo.workdir is None:
            raise RepositoryError(
                f"{repo.path} is a bare repository: its keys live in a work tree's {KEYS_DIR}"
            )
        return cls(Path(repo.workdir) / KEYS_DIR)

    def files(self) -> tuple[Path, ...]:
        return tuple(self.root / name for name in (ATTRIBUTES, MEMBERS, PROJECT_PUB, PROJECT_AGE))

    def exists(self) -> bool:
        return (self.root / PROJECT_AGE).is_file()

    def members(self) -> dict[str, str]:
        """``{name: recipient}``; empty when there is no keyring."""
        path = self.root / MEMBERS
        if not path.exists():
            return {}
        data = _yaml_load(self._read(MEMBERS), path) or {}
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise FormatError(f"{path} must map member names to recipients")
        return data

    def project_recipient(self) -> Recipient:
        """The newest project recipient, from ``project.pub``: for writers who cannot unlock.

        Anyone who can commit can change this file; a member should encrypt to
        ``unlock(...).recipient``, which comes from the encrypted ``project.age``.
        """
        path = self.root / PROJECT_PUB
        if not path.exists():
            raise CryptoError(f"{path} is missing: this project has no keyring")
        text = self._read(PROJECT_PUB).decode("utf-8", "replace").strip()
        if not text.startswith("age1"):
            raise FormatError(f"{path} must hold one age1... recipient")
        try:
            return parse_recipient(text)
        except CryptoError as exc:
            raise FormatError(f"{path}: {exc}") from None

    def unlock(self, identities: Sequence[Identity]) -> ProjectKeys:
        """The project keys, opened with any of ``identities`` (the user's)."""
        return ProjectKeys.from_secrets(self._secrets(identities))

    def init(self, name: str, recipient: str) -> None:
        """A new keyring with one member and a new project identity."""
        if self.exists():
            raise ConflictError(f"{self.root} already holds a keyring: use `gittrack keys add`")
        members = {_check_name(name): _check_recipient(recipient)}
        secret, public = generate_identity()
        self._write(ATTRIBUTES, ATTRIBUTES_TEXT.encode())
        self._write_members(members)
        self._write(PROJECT_PUB, f"{public}\n".encode())
        self._write_wrapped([secret], members.values())  # last: exists() looks for it

    def add_member(self, name: str, recipient: str, identities: Sequence[Identity]) -> None:
        """Give ``name`` access: rewraps ``project.age`` only; no blob changes."""
        members = self.members()
        name, recipient = _check_name(name), _check_recipient(recipient)
        if name in members:
            raise ConflictError(f"{name!r} is already a member: `gittrack keys rm {name}` first")
        for other, theirs in members.items():
            if theirs == recipient:
                raise ConflictError(f"that recipient is already a member, as {other!r}")
        secrets = self._secrets(identities)
        members[name] = recipient
        # project.age first: a crash before members.yaml leaves a state that a retry repairs.
        self._write_wrapped(secrets, members.values())
        self._write_members(members)

    def remove_member(self, name: str, identities: Sequence[Identity]) -> ProjectKeys:
        """Remove ``name`` and rotate the project key; returns the new keys.

        What ``name`` could read before (old blobs, if they kept the old key) stays readable
        to them: rewriting old blobs is ``gittrack keys rm --reencrypt``'s job.
        """
        members = self.members()
        if name not in members:
            raise NotFoundError(f"no member named {name!r}; members: {_names(members)}")
        if len(members) == 1:
            raise UsageError(f"{name!r} is the last member: a keyring nobody can open is lost")
        del members[name]
        return self._rotate(identities, members)

    def rotate(self, identities: Sequence[Identity]) -> ProjectKeys:
        """A new project identity for new data, same members; returns the new keys."""
        return self._rotate(identities, self.members())

    def _rotate(self, identities: Sequence[Identity], members: dict[str, str]) -> ProjectKeys:
        secrets = self._secrets(identities)
        secret, public = generate_identity()
        secrets = [secret, *secrets]
        # project.age first: until it is rewritten, a removed member can still open it.
        self._write_wrapped(secrets, members.values())
        self._write(PROJECT_PUB, f"{public}\n".encode())
        self._write_members(members)
        return ProjectKeys.from_secrets(secrets)

    def _secrets(self, identities: Sequence[Identity]) -> list[str]:
        if not self.exists():
            raise KeyMissingError(
                f"this project has no keyring ({self.root}): run `gittrack keys init`"
            )
        if not identities:
            raise KeyMissingError(f"no identity of yours was found: {self._how_to_join()}")
        path = self.root / PROJECT_AGE
        try:
            plain = try_decrypt_bytes(self._read(PROJECT_AGE), identities)
        except DecryptionError as exc:
            raise DecryptionError(f"{path}: {exc}") from None
        if plain is None:
            raise KeyMissingError(f"none of your identities opens {path}: {self._how_to_join()}")
        return _parse_payload(plain, path)

    def _how_to_join(self) -> str:
        return (
            "run `gittrack keys init` to get a key, then ask a member "
            f"({_names(self.members())}) to run `gittrack keys add YOUR_NAME YOUR_PUBLIC_KEY`"
        )

    def _write_wrapped(self, secrets: list[str], recipients: Iterable[str]) -> None:
        payload = _yaml_dump({"identities": secrets})
        wrapped = encrypt_bytes(payload, [parse_recipient(r) for r in recipients])
        self._write(PROJECT_AGE, wrapped)

    def _write_members(self, members: dict[str, str]) -> None:
        self._write(MEMBERS, _yaml_dump(members))

    def _write(self, name: str, data: bytes) -> None:
        write_atomic(self.root / name, data, error=CryptoError, parents=True)

    def _read(self, name: str) -> bytes:
        path = self.root / name
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CryptoError(f"cannot read {path}: {reason(exc)}") from None


def _parse_payload(plain: bytes, path: Path) -> list[str]:
    # Never let the YAML parser quote the plaintext in an error: it holds the secrets.
    bad = FormatError(f"{path} does not hold a list of project identities")
    try:
        data = yamlio.load(plain)
    except FormatError:
        raise bad from None
    secrets = data.get("identities") if isinstance(data, dict) else None
    if not secrets or not all(isinstance(s, str) for s in secrets):
        raise bad
    try:
        parse_identities("\n".join(secrets))
    except CryptoError:
        raise bad from None
    return list(secrets)


def _yaml_dump(data: Any) -> bytes:
    return yamlio.dump(data)


def _yaml_load(raw: bytes, path: Path) -> Any:
    # members.yaml comes with the code from a remote: the one bounded, alias-free reader
    return yamlio.load(raw, what=str(path))


def _check_name(name: str) -> str:
    if not _MEMBER_NAME.fullmatch(name) or name != name.strip() or text_problem(name):
        raise UsageError(f"{name!r} is not a member name: 1 to 64 printable characters of "
                         "UTF-8 text, no surrounding space")
    return name


def _check_recipient(text: str) -> str:
    """The recipient as stored: validated, on one line, whitespace collapsed."""
    parse_recipient(text)
    return " ".join(text.split())


def _names(members: dict[str, str]) -> str:
    return ", ".join(members) or "none"
