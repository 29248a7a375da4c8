from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pygit2
import pytest
import yaml

from gittrack.crypto.age import (
    Identity,
    decrypt_bytes,
    encrypt_bytes,
    generate_identity,
    parse_identities,
    parse_recipient,
)
from gittrack.crypto.keys import (
    KEYS_DIR,
    Keyring,
    ProjectKeys,
    init_user_identity,
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
from tests.helpers.repos import git, git_objects_contain
from tests.helpers.tools import age_cli, ssh_keypair, tree_contains

SECRET_MARK = b"AGE-SECRET-KEY"


class Person:
    """A member-to-be: a name, a secret and its public key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.secret, self.public = generate_identity()
        self.identities: list[Identity] = parse_identities(self.secret)


@pytest.fixture
def alice() -> Person:
    return Person("alice")


@pytest.fixture
def bob() -> Person:
    return Person("bob")


@pytest.fixture
def keyring(repo: Path, alice: Person) -> Keyring:
    ring = Keyring.for_repo(pygit2.Repository(str(repo)))
    ring.init(alice.name, alice.public)
    return ring


# The project keyring


def test_init_writes_public_files_and_the_wrapped_key(
    keyring: Keyring, alice: Person, repo: Path
) -> None:
    assert keyring.root == repo / KEYS_DIR == repo / ".gittrack" / "keys"
    assert keyring.exists()
    assert keyring.members() == {"alice": alice.public}
    unlocked = keyring.unlock(alice.identities)
    assert str(keyring.project_recipient()) == str(unlocked.recipient)
    assert git(repo, "check-attr", "binary", ".gittrack/keys/project.age").endswith("set\n")
    with pytest.raises(ConflictError, match="already"):
        keyring.init("bob", alice.public)


def test_unlock_explains_what_to_do(keyring: Keyring, bob: Person, tmp_path: Path) -> None:
    with pytest.raises(KeyMissingError, match=r"`gittrack keys init`.*\(alice\)"):
        keyring.unlock(bob.identities)
    with pytest.raises(KeyMissingError, match="no identity of yours"):
        keyring.unlock([])
    with pytest.raises(KeyMissingError, match="no keyring"):
        Keyring(tmp_path / "none").unlock(bob.identities)


def test_project_keys_name_blobs_with_a_keyed_hash(keyring: Keyring, alice: Person) -> None:
    unlocked = keyring.unlock(alice.identities)
    digest = hashlib.sha256(b"data").hexdigest()
    name = unlocked.blob_name(digest)
    assert name == hmac.new(unlocked.name_key, digest.encode(), hashlib.sha256).hexdigest()
    assert len(unlocked.name_key) == 32 and name != digest
    assert keyring.unlock(alice.identities).blob_name(digest) == name  # stable
    assert name not in repr(unlocked) and unlocked.name_key.hex() not in repr(unlocked)


def test_add_member_rewraps_only_the_project_key(
    keyring: Keyring, alice: Person, bob: Person
) -> None:
    before = keyring.unlock(alice.identities)
    pub = (keyring.root / "project.pub").read_bytes()
    keyring.add_member("bob", bob.public, alice.identities)
    assert keyring.members() == {"alice": alice.public, "bob": bob.public}
    for person in (alice, bob):
        assert keyring.unlock(person.identities).name_key == before.name_key
    assert (keyring.root / "project.pub").read_bytes() == pub


def test_add_member_refusals(keyring: Keyring, alice: Person, bob: Person) -> None:
    with pytest.raises(ConflictError, match="already a member"):
        keyring.add_member("alice", bob.public, alice.identities)
    with pytest.raises(ConflictError, match="as 'alice'"):
        keyring.add_member("bob", alice.public, alice.identities)
    with pytest.raises(KeyMissingError):  # only a member can let someone in
        keyring.add_member("bob", bob.public, bob.identities)
    with pytest.raises(CryptoError, match="recipient"):
        keyring.add_member("bob", "age1nonsense", alice.identities)
    with pytest.raises(UsageError, match="member name"):
        keyring.add_member(" bob\n", bob.public, alice.identities)
    with pytest.raises(UsageError, match="member name"):  # members.yaml holds UTF-8 only
        keyring.add_member("bob\udce9", bob.public, alice.identities)
    assert keyring.members() == {"alice": alice.public}


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_ssh_members_unlock_with_their_ssh_key(
    keyring: Keyring, alice: Person, tmp_path: Path, kind: str
) -> None:
    key, public = ssh_keypair(tmp_path, kind)
    keyring.add_member("carol", public, alice.identities)
    assert keyring.members()["carol"] == public
    keyring.unlock(parse_identities(key.read_text()))


def test_remove_member_rotates_and_locks_them_out(
    keyring: Keyring, alice: Person, bob: Person
) -> None:
    keyring.add_member("bob", bob.public, alice.identities)
    old = keyring.unlock(bob.identities)
    old_blob = encrypt_bytes(b"stored before", [old.recipient])
    new = keyring.remove_member("bob", alice.identities)
    assert keyring.members() == {"alice": alice.public}
    with pytest.raises(KeyMissingError):
        keyring.unlock(bob.identities)
    assert str(new.recipient) != str(old.recipient) and new.name_key != old.name_key
    assert str(keyring.project_recipient()) == str(new.recipient)
    unlocked = keyring.unlock(alice.identities)
    assert str(unlocked.recipient) == str(new.recipient)
    assert decrypt_bytes(old_blob, unlocked.identities) == b"stored before"
    with pytest.raises(DecryptionError):  # new data is out of the removed member's reach
        decrypt_bytes(encrypt_bytes(b"new", [new.recipient]), old.identities)


def test_remove_member_refusals(keyring: Keyring, alice: Person) -> None:
    with pytest.raises(NotFoundError, match="members: alice"):
        keyring.remove_member("zed", alice.identities)
    with pytest.raises(UsageError, match="last member"):
        keyring.remove_member("alice", alice.identities)


def test_rotate_keeps_members_and_old_data(keyring: Keyring, alice: Person) -> None:
    old = keyring.unlock(alice.identities)
    blob = encrypt_bytes(b"old", [old.recipient])
    new = keyring.rotate(alice.identities)
    assert keyring.members() == {"alice": alice.public}
    assert len(new.identities) == 2 and str(new.recipient) != str(old.recipient)
    assert decrypt_bytes(blob, keyring.unlock(alice.identities).identities) == b"old"


def test_the_age_command_line_opens_the_keyring_and_a_blob(
    keyring: Keyring, alice: Person, tmp_path: Path
) -> None:
    identity = tmp_path / "alice.txt"
    identity.write_text(alice.secret + "\n")
    payload = yaml.safe_load(age_cli("-d", "-i", str(identity), str(keyring.root / "project.age")))
    project_identity = tmp_path / "project.txt"
    project_identity.write_text("\n".join(payload["identities"]) + "\n")
    blob = encrypt_bytes(b"a blob", [keyring.unlock(alice.identities).recipient])
    assert age_cli("-d", "-i", str(project_identity), stdin=blob) == b"a blob"


def test_damaged_keyring_files(keyring: Keyring, alice: Person) -> None:
    wrapped = bytearray((keyring.root / "project.age").read_bytes())
    wrapped[-5] ^= 1
    (keyring.root / "project.age").write_bytes(bytes(wrapped))
    with pytest.raises(DecryptionError, match=r"project\.age"):
        keyring.unlock(alice.identities)
    (keyring.root / "members.yaml").write_text("- not\n- a mapping\n")
    with pytest.raises(FormatError, match=r"members\.yaml"):
        keyring.members()
    (keyring.root / "project.pub").write_text("ssh-ed25519 AAAA\n")
    with pytest.raises(FormatError, match=r"project\.pub"):
        keyring.project_recipient()


def test_a_keyring_whose_payload_is_not_a_key_list(keyring: Keyring, alice: Person) -> None:
    (keyring.root / "project.age").write_bytes(
        encrypt_bytes(b"identities: [oops]\n", [parse_recipient(alice.public)])
    )
    with pytest.raises(FormatError, match="list of project identities") as caught:
        keyring.unlock(alice.identities)
    assert "oops" not in str(caught.value)  # the parser never quotes what may be a secret


def test_a_bare_repository_has_no_keyring(tmp_path: Path) -> None:
    bare = pygit2.init_repository(str(tmp_path / "bare.git"), bare=True)
    with pytest.raises(RepositoryError, match="bare"):
        Keyring.for_repo(bare)


def test_no_secret_reaches_the_work_tree_or_git(
    keyring: Keyring, repo: Path, alice: Person, bob: Person
) -> None:
    init_user_identity()
    keyring.add_member("bob", bob.public, alice.identities)
    keyring.remove_member("bob", alice.identities)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "keys")
    assert tree_contains(repo, SECRET_MARK) == []
    assert not git_objects_contain(repo, SECRET_MARK)
    assert tree_contains(Path.home(), SECRET_MARK) == [user_identity_file()]


def test_project_keys_from_secrets_is_newest_first() -> None:
    newest, older = generate_identity(), generate_identity()
    unlocked = ProjectKeys.from_secrets([newest[0], older[0]])
    assert str(unlocked.recipient) == newest[1]
