from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gittrack.crypto.age import encrypt_bytes, generate_identity, parse_recipient, public_key
from gittrack.crypto.identity import (
    check_outside,
    init_user_identity,
    load_user_identities,
    user_identity_file,
)
from gittrack.errors import CryptoError, UsageError
from tests.helpers.tools import age_cli, ssh_keypair


def test_identity_file_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert user_identity_file() == Path(os.environ["XDG_CONFIG_HOME"]) / "gittrack/identity.txt"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")
    assert user_identity_file() == Path.home() / ".config/gittrack/identity.txt"
    monkeypatch.setenv("GITTRACK_IDENTITY_FILE", str(tmp_path / "mine.txt"))
    assert user_identity_file() == tmp_path / "mine.txt"


def test_init_user_identity_creates_a_private_file_then_adopts_it() -> None:
    public, path, created = init_user_identity()
    assert created and path == user_identity_file()
    assert path.is_relative_to(Path.home())  # the hermetic HOME, never the real one
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [public_key(i) for i in load_user_identities()] == [public]
    assert init_user_identity() == (public, path, False)


def test_the_identity_file_works_with_the_age_command_line() -> None:
    public, path, _ = init_user_identity()
    sealed = encrypt_bytes(b"for me", [parse_recipient(public)])
    assert age_cli("-d", "-i", str(path), stdin=sealed) == b"for me"


def test_init_user_identity_adopts_an_existing_age_key_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret, public = generate_identity()
    mine = tmp_path / "keys.txt"
    mine.write_text(f"# created by age-keygen\n# public key: {public}\n{secret}\n")
    monkeypatch.setenv("GITTRACK_IDENTITY_FILE", str(mine))
    assert init_user_identity() == (public, mine, False)


def test_init_user_identity_adopts_an_ssh_key_with_its_public_half(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key, public = ssh_keypair(tmp_path, "ed25519")
    monkeypatch.setenv("GITTRACK_IDENTITY_FILE", str(key))
    assert init_user_identity() == (public, key, False)


def test_load_user_identities_from_every_source(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_user_identities() == []
    env_secret, env_public = generate_identity()
    monkeypatch.setenv("GITTRACK_IDENTITY", env_secret)
    public, _, _ = init_user_identity()
    ssh = Path.home() / ".ssh"
    ssh.mkdir()
    ssh_keypair(ssh, "ed25519")
    ssh_keypair(ssh, "rsa", passphrase="protected")  # skipped: pyrage cannot unlock it
    found = load_user_identities()
    assert [public_key(i) for i in found] == [public, env_public, None]


def test_a_broken_identity_file_is_named_without_its_secret() -> None:
    secret, _ = generate_identity()
    path = user_identity_file()
    path.parent.mkdir(parents=True)
    path.write_text(secret[:-3] + "\n")
    with pytest.raises(CryptoError, match=r"identity\.txt: line 1") as caught:
        load_user_identities()
    assert secret[16:40] not in str(caught.value)


def test_a_secret_inside_the_work_tree_is_refused(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="inside the git work tree"):
        check_outside(repo / "sub" / "identity.txt", repo)
    check_outside(tmp_path / "elsewhere.txt", repo)


def test_the_environment_secret_is_checked_without_quoting_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret, _ = generate_identity()
    monkeypatch.setenv("GITTRACK_IDENTITY", secret[:-2])
    with pytest.raises(CryptoError, match=r"\$GITTRACK_IDENTITY") as caught:
        load_user_identities()
    assert secret[16:40] not in str(caught.value)


def test_two_processes_creating_the_identity_end_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second creator finds the file already there and adopts it, never replaces it."""
    first = init_user_identity()
    monkeypatch.setattr(Path, "exists", lambda self: False)  # checked before the first wrote
    assert init_user_identity() == (first[0], first[1], False)
