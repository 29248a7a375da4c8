"""`gittrack keys init|add|rm|ls`: who can read this project's encrypted artifacts.

Only public keys and the age-encrypted ``project.age`` are written to the work tree; every
change is printed with the files to commit, since the keyring is reviewed like code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import importlib
import os
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from gittrack.cli.console import make_console
from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps
from gittrack.crypto.age import looks_secret, recipient_kind
from gittrack.crypto.identity import check_outside
from gittrack.crypto.keys import (
    Keyring,
    init_user_identity,
    load_user_identities,
    user_identity_file,
)
from gittrack.errors import CryptoError, GittrackError, KeyMissingError, UsageError
from gittrack.formats.values import readable
from gittrack.git import config
from gittrack.git.repo import Repository, work_folder

Snapshot = dict[Path, bytes | None]


@click.group("keys")
def command() -> None:
    """Manage who can read this project's encrypted artifacts (age keys)."""


@command.command("init")
@click.option("--name", default=None,
              help="Your member name if this creates the keyring (default: git user.name).")
@click.pass_obj
def init(obj: CliContext, name: str | None) -> None:
    """Create or adopt your identity; create the project keyring if there is none.

    The secret stays in your home folder (never in the repository); the public key printed
    is the one to give a member, for `gittrack keys add`.
    """
    repo, console = obj.git(), make_console()
    keyring = Keyring.for_repo(repo)
    check_outside(user_identity_file(), Path(work_folder(repo)))
    public, path, created = init_user_identity()
    console.print(f"{'created' if created else 'using'} your identity {path} (keep it private)")
    console.print(f"your public key: {public}")
    if not keyring.exists():
        member = name or _default_name(repo)
        with _report_changes(console, keyring, repo, f"keys: create the keyring ({member})"):
            keyring.init(member, public)
        console.print(f"created the project keyring, with {member} as its first member")
    elif _can_unlock(keyring):
        console.print("you can unlock this project's keys")
    else:
        console.print(f"ask a member ({', '.join(keyring.members())}) to run: "
                      f"gittrack keys add {_quote(name or _guess_name(repo))} {public}")


@command.command("add")
@click.argument("name")
@click.argument("recipient")
@click.pass_obj
def add(obj: CliContext, name: str, recipient: str) -> None:
    """Add member NAME, who can then read the project's artifacts.

    RECIPIENT is their public key: age1..., an ssh-ed25519 or ssh-rsa public key line, or the
    path of a .pub file. Only .gittrack/keys/project.age is rewrapped; no blob is rewritten.
    """
    repo, console = obj.git(), make_console()
    keyring = Keyring.for_repo(repo)
    text = _recipient_text(recipient)
    with _report_changes(console, keyring, repo, f"keys: add {name}"):
        keyring.add_member(name, text, load_user_identities())
    console.print(f"added {name} ({recipient_kind(text)})")


@command.command("rm")
@click.argument("name")
@click.option("--reencrypt", is_flag=True,
              help="Also rewrite the blobs already stored, to the new project key.")
@click.pass_obj
def rm(obj: CliContext, name: str, reencrypt: bool) -> None:
    """Remove member NAME and rotate the project key for new data."""
    repo, console = obj.git(), make_console()
    keyring = Keyring.for_repo(repo)
    reencrypt_all = _reencrypt_function() if reencrypt else None  # before changing anything
    identities = load_user_identities()
    old = keyring.unlock(identities) if reencrypt else None
    with _report_changes(console, keyring, repo, f"keys: remove {name}"):
        new = keyring.remove_member(name, identities)
    console.print(f"removed {name}; new data is encrypted to the new project key {new.recipient}")
    if reencrypt_all is not None:
        console.print(f"re-encrypted the stored blobs: {_summary(reencrypt_all(repo, old, new))}")
    else:
        console.print(f"blobs stored before stay under the old project key, which {name} can "
                      "still read if they kept it (--reencrypt rewrites old blobs)")


@command.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print the keyring as JSON for machines.")
@click.pass_obj
def ls(obj: CliContext, as_json: bool) -> None:
    """List members and their recipients, the project recipient, and whether you can unlock."""
    keyring = Keyring.for_repo(obj.reader())
    info = _describe(keyring)
    if as_json:
        click.echo(dumps(info))
    else:
        _print_keyring(make_console(), info)


def _summary(report: Any) -> str:
    """The counts of the artifact layer's report, whatever its fields are."""
    if not dataclasses.is_dataclass(report) or isinstance(report, type):
        return "done"
    counts = {k: len(v) if isinstance(v, (list, tuple, set)) else v
              for k, v in dataclasses.asdict(report).items()}
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _describe(keyring: Keyring) -> dict[str, Any]:
    exists = keyring.exists()
    return {
        "keyring": exists,
        "members": [{"name": name, "kind": recipient_kind(text), "recipient": text}
                    for name, text in keyring.members().items()],
        "project_recipient": str(keyring.project_recipient()) if exists else None,
        "can_unlock": exists and _can_unlock(keyring),
        "identity_file": str(user_identity_file()),
    }


def _print_keyring(console: Console, info: dict[str, Any]) -> None:
    if not info["keyring"]:
        console.print("this project has no keyring (artifacts are stored unencrypted): "
                      "`gittrack keys init` creates one")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("member", "kind", "recipient"):
        table.add_column(column, no_wrap=column != "recipient")
    for member in info["members"]:
        table.add_row(member["name"], member["kind"], member["recipient"])
    console.print(table)
    console.print(f"project recipient: {info['project_recipient']}")
    console.print("you can unlock the project keys" if info["can_unlock"] else
                  f"you cannot unlock the project keys (identity file: {info['identity_file']})")


def _can_unlock(keyring: Keyring) -> bool:
    try:
        keyring.unlock(load_user_identities())
    except KeyMissingError:
        return False
    return True


def _recipient_text(arg: str) -> str:
    """RECIPIENT as given, or the one key in the file it names."""
    if arg.startswith(("age1", "ssh-")) or looks_secret(arg):
        return arg  # parsed (and a secret refused without being echoed) by the keyring
    path = Path(arg).expanduser()
    if not path.is_file():
        raise UsageError(f"{arg!r} is neither a recipient (age1..., ssh-...) nor a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if looks_secret(text):
        raise UsageError(f"{path} is a private key: give its public half ({path}.pub)")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1:
        raise UsageError(f"{path} must hold exactly one public key, found {len(lines)}")
    return lines[0]


def _reencrypt_function() -> Callable[..., Any]:
    # Lazy: rewriting blobs needs the artifact store, which `keys` itself does not.
    name = "gittrack.artifacts.reencrypt"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise GittrackError("--reencrypt is not available in this version of gittrack") from None
    function: Callable[..., Any] = module.reencrypt_all
    return function


@contextlib.contextmanager
def _report_changes(console: Console, keyring: Keyring, repo: Repository,
                    message: str) -> Iterator[None]:
    """Print which keyring files the block changed (even when it failed half-way)."""
    before = _snapshot(keyring)
    try:
        yield
    finally:
        after = _snapshot(keyring)
        changed = [p for p in after if before[p] != after[p]]
        if changed:
            work_tree = Path(work_folder(repo))
            for path in changed:
                verb = _change_verb(before[path], after[path])
                console.print(f"{verb} {path.relative_to(work_tree)}")
            console.print("commit them (the keyring is reviewed like code): "
                          f"git add {_quote(str(keyring.root.relative_to(work_tree)))} && "
                          f"git commit -m {_quote(message)}")


def _change_verb(before: bytes | None, after: bytes | None) -> str:
    return "created" if before is None else "removed" if after is None else "changed"


def _snapshot(keyring: Keyring) -> Snapshot:
    snapshot: Snapshot = {}
    for path in keyring.files():
        try:
            snapshot[path] = path.read_bytes()
        except FileNotFoundError:
            snapshot[path] = None
        except OSError as exc:
            raise CryptoError(f"cannot read {path}: {exc.strerror or exc}") from None
    return snapshot


def _login_name() -> str:
    try:
        return getpass.getuser().strip()
    except (KeyError, OSError):  # no passwd entry in some containers
        return ""


def _default_name(repo: Repository) -> str:
    name = (config.value(repo, "user.name") or "").strip()
    name = name or os.environ.get("USER", "").strip() or _login_name()
    if not name:
        raise UsageError("cannot tell your name (no git user.name, no $USER): pass --name NAME")
    return str(readable(name))  # bytes that are not UTF-8, as \xNN: stored in members.yaml


def _guess_name(repo: Repository) -> str:
    try:
        return _default_name(repo)
    except UsageError:  # only a hint for someone else's command: a placeholder will do
        return "YOUR_NAME"


def _quote(text: str) -> str:
    return shlex.quote(text)
