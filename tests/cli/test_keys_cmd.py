from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gittrack.crypto.age import generate_identity, parse_identities
from gittrack.crypto.keys import Keyring, ProjectKeys, user_identity_file
from gittrack.errors import KeyMissingError
from tests.helpers.cli import CliResult
from tests.helpers.repos import git, git_objects_contain
from tests.helpers.tools import ssh_keypair, tree_contains

Cli = Callable[..., CliResult]
REENCRYPT = "gittrack.artifacts.reencrypt"


def keyring(repo: Path) -> Keyring:
    return Keyring.for_repo(pygit2.Repository(str(repo)))


def become(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Path:
    """Act as another user: their own identity file, outside the work tree."""
    path = tmp_path / "users" / name / "identity.txt"
    monkeypatch.setenv("GITTRACK_IDENTITY_FILE", str(path))
    return path


def public_key_of(result: CliResult) -> str:
    return next(line.split(": ", 1)[1] for line in result.stdout.splitlines()
                if line.startswith("your public key: "))


def test_init_creates_the_identity_and_the_keyring(cli: Cli, repo: Path) -> None:
    result = cli("keys", "init", "--name", "alice")
    assert result.exit_code == 0, result.stderr
    path = user_identity_file()
    assert f"created your identity {path}" in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = public_key_of(result)
    assert keyring(repo).members() == {"alice": public}
    assert "created .gittrack/keys/project.age" in result.stdout
    assert "git add .gittrack/keys && git commit" in result.stdout
    again = cli("keys", "init")
    assert again.exit_code == 0 and "using your identity" in again.stdout
    assert "you can unlock" in again.stdout and "changed" not in again.stdout


def test_init_names_the_first_member_from_git_config(cli: Cli, repo: Path) -> None:
    git(repo, "config", "user.name", "Ada Lovelace")
    assert cli("keys", "init").exit_code == 0
    assert list(keyring(repo).members()) == ["Ada Lovelace"]


@pytest.mark.parametrize("where", ["user.name", "USER"])
def test_init_names_the_first_member_readably_from_bytes_that_are_not_utf8(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A latin-1 git user.name or $USER (pygit2 raised UnicodeDecodeError; the YAML dump,
    UnicodeEncodeError after part of the keyring was written): kept as ``\\xNN``."""
    name = os.fsdecode(b"Ren\xe9")
    if where == "USER":
        monkeypatch.setenv("USER", name)
    else:
        git(repo, "config", "user.name", name)
    result = cli("keys", "init")
    assert result.exit_code == 0, result.stderr
    assert list(keyring(repo).members()) == ["Ren\\xe9"]


def _no_login_name() -> str:
    raise KeyError("no passwd entry")


def test_init_without_name_or_user_uses_the_login_name(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USER", raising=False)
    result = cli("keys", "init")
    assert result.exit_code == 0, result.stderr
    import getpass

    assert getpass.getuser() in keyring(repo).members()


def test_init_without_any_name_asks_for_one(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USER", raising=False)
    monkeypatch.setattr("getpass.getuser", _no_login_name)
    result = cli("keys", "init")
    assert result.exit_code == 2 and "--name" in result.stderr
    assert not keyring(repo).exists()


def test_init_by_a_newcomer_says_whom_to_ask(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("keys", "init", "--name", "alice")
    before = (repo / ".gittrack/keys/project.age").read_bytes()
    become(monkeypatch, tmp_path, "bob")
    result = cli("keys", "init", "--name", "bob")
    assert result.exit_code == 0
    bob = public_key_of(result)
    assert f"ask a member (alice) to run: gittrack keys add bob {bob}" in result.stdout
    assert (repo / ".gittrack/keys/project.age").read_bytes() == before


def test_init_refuses_an_identity_file_inside_the_work_tree(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITTRACK_IDENTITY_FILE", str(repo / "identity.txt"))
    result = cli("keys", "init", "--name", "alice")
    assert result.exit_code == 2 and "inside the git work tree" in result.stderr
    assert not (repo / "identity.txt").exists() and not keyring(repo).exists()


def test_add_by_recipient_and_by_pub_file(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("keys", "init", "--name", "alice")
    bob_secret, bob_public = generate_identity()
    result = cli("keys", "add", "bob", bob_public)
    assert result.exit_code == 0, result.stderr
    assert "changed .gittrack/keys/project.age" in result.stdout
    assert "project.pub" not in result.stdout  # a new member rewraps only project.age
    key, ssh_public = ssh_keypair(tmp_path, "ed25519")
    assert cli("keys", "add", "carol", str(key) + ".pub").exit_code == 0
    assert keyring(repo).members()["carol"] == ssh_public
    for identities in (parse_identities(bob_secret), parse_identities(key.read_text())):
        keyring(repo).unlock(identities)


def test_add_refuses_a_private_key_without_showing_it(cli: Cli, repo: Path,
                                                      tmp_path: Path) -> None:
    cli("keys", "init", "--name", "alice")
    key, _ = ssh_keypair(tmp_path, "ed25519")
    secret, _ = generate_identity()
    for arg in (str(key), secret):
        result = cli("keys", "add", "eve", arg)
        assert result.exit_code != 0 and "private key" in result.stderr
        assert secret[20:40] not in result.stderr + result.stdout
        assert "PRIVATE KEY-----" not in result.stderr
    assert cli("keys", "add", "eve", "no-such-file.pub").exit_code == 2
    assert list(keyring(repo).members()) == ["alice"]


def test_rm_rotates_and_locks_the_member_out(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("keys", "init", "--name", "alice")
    bob_secret, bob_public = generate_identity()
    cli("keys", "add", "bob", bob_public)
    old = keyring(repo).unlock(parse_identities(bob_secret))
    result = cli("keys", "rm", "bob")
    assert result.exit_code == 0, result.stderr
    assert "changed .gittrack/keys/project.pub" in result.stdout
    assert "removed bob" in result.stdout
    with pytest.raises(KeyMissingError):
        keyring(repo).unlock(parse_identities(bob_secret))
    assert str(keyring(repo).project_recipient()) != str(old.recipient)
    assert cli("keys", "rm", "alice").exit_code == 2  # the last member stays
    assert cli("keys", "rm", "zed").exit_code == 4


def test_rm_reencrypt_when_not_available_changes_nothing(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("keys", "init", "--name", "alice")
    cli("keys", "add", "bob", generate_identity()[1])
    monkeypatch.setitem(sys.modules, REENCRYPT, None)  # as if the module did not exist
    result = cli("keys", "rm", "bob", "--reencrypt")
    assert result.exit_code == 1 and "not available" in result.stderr
    assert list(keyring(repo).members()) == ["alice", "bob"]


def test_rm_reencrypt_hands_old_and_new_keys_over(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ProjectKeys, ProjectKeys]] = []
    fake = types.ModuleType(REENCRYPT)

    @dataclasses.dataclass
    class Report:
        rewritten: int
        missing: tuple[str, ...]

    def reencrypt_all(repo: Any, old: ProjectKeys, new: ProjectKeys) -> Report:
        calls.append((repo, old, new))
        return Report(3, ("abc",))

    fake.reencrypt_all = reencrypt_all  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, REENCRYPT, fake)
    cli("keys", "init", "--name", "alice")
    cli("keys", "add", "bob", generate_identity()[1])
    result = cli("keys", "rm", "bob", "--reencrypt")
    assert result.exit_code == 0, result.stderr
    assert "re-encrypted the stored blobs: rewritten 3, missing 1" in result.stdout
    [(_, old, new)] = calls
    assert str(new.recipient) == str(keyring(repo).project_recipient())
    assert str(old.recipient) != str(new.recipient)


def test_ls_for_people_and_machines(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = json.loads(cli("keys", "ls", "--json").stdout)
    assert empty["keyring"] is False and empty["members"] == []
    assert "no keyring" in cli("keys", "ls").stdout
    alice = public_key_of(cli("keys", "init", "--name", "alice"))
    _, ssh_public = ssh_keypair(tmp_path, "rsa")
    cli("keys", "add", "bob", ssh_public)
    info = json.loads(cli("keys", "ls", "--json").stdout)
    assert info["members"] == [
        {"name": "alice", "kind": "age", "recipient": alice},
        {"name": "bob", "kind": "ssh-rsa", "recipient": ssh_public},
    ]
    assert info["project_recipient"].startswith("age1") and info["can_unlock"] is True
    text = cli("keys", "ls").stdout
    assert "alice" in text and "ssh-rsa" in text and "you can unlock" in text
    become(monkeypatch, tmp_path, "mallory")
    assert json.loads(cli("keys", "ls", "--json").stdout)["can_unlock"] is False
    assert "you cannot unlock" in cli("keys", "ls").stdout


def test_a_bare_repository_is_refused(cli: Cli, tmp_path: Path) -> None:
    pygit2.init_repository(str(tmp_path / "bare.git"), bare=True)
    assert cli("-C", str(tmp_path / "bare.git"), "keys", "ls").exit_code == 3


def test_no_secret_in_the_work_tree_or_git(cli: Cli, repo: Path, tmp_path: Path) -> None:
    cli("keys", "init", "--name", "alice")
    cli("keys", "add", "bob", generate_identity()[1])
    cli("keys", "rm", "bob")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "keys")
    assert tree_contains(repo, b"AGE-SECRET-KEY") == []
    assert not git_objects_contain(repo, b"AGE-SECRET-KEY")
