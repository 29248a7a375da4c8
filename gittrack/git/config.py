"""Reading and writing the repository's git config: the one place that asks libgit2 (and, for
bytes it cannot decode, ``git config``) for a value.

Names and values git keeps are bytes: a branch or remote name, or a URL, that is not UTF-8
reaches Python as lone surrogates (pygit2 decodes them with ``surrogateescape``) and must go
back to libgit2 as the same bytes, never through a strict encode (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import pygit2

from gittrack.errors import RepositoryError
from gittrack.git import command
from gittrack.git.repo import Repository, common_dir


def value(repo: Repository, name: str) -> str | None:
    """The git config value ``name`` (``None``: unset or a valueless flag), bytes that are not
    UTF-8 in the name or the value kept as ``surrogateescape`` text."""
    key = name.encode("utf-8", "surrogateescape")
    try:
        found = repo.config[key]
    except KeyError:
        return None
    except UnicodeDecodeError:  # pygit2 decodes the entry strictly: ask git for the bytes
        found = next(iter(_from_git(repo, name)), None)
    except (pygit2.GitError, ValueError):  # a name git's config cannot hold: not set
        return None
    return None if found is None else str(found)


def values(repo: Repository, name: str) -> list[str]:
    """Every value of the git config multivar ``name`` (a remote's refspecs), as ``value``
    keeps bytes that are not UTF-8."""
    key = name.encode("utf-8", "surrogateescape")
    try:
        return [str(v) for v in repo.config.get_multivar(key) if v is not None]
    except UnicodeDecodeError:
        return _from_git(repo, name, "--get-all")
    except (KeyError, ValueError, pygit2.GitError):
        return []


def flag(repo: Repository, name: str) -> bool:
    """The boolean ``name`` as git reads one (``true``, ``yes``, ``on``, ``1``...);
    ``False`` when unset or not a boolean. A name that is not UTF-8 (a remote's) is read as
    ``value`` reads it."""
    try:
        return bool(repo.config.get_bool(name.encode("utf-8", "surrogateescape")))
    except UnicodeDecodeError:  # pygit2 decodes the entry's name strictly: ask git
        found = next(iter(_from_git(repo, name)), None)
        return found is not None and found.strip().lower() in ("true", "yes", "on", "1")
    except (KeyError, pygit2.GitError, ValueError):
        return False


def write(repo: Repository, args: Sequence[str], *, what: str) -> None:
    """``git config ARGS`` that writes this repository's config: a failure (a read-only or
    full ``.git``, a stale ``config.lock``) is a ``RepositoryError`` naming the file — no
    transport is involved, so it is never a ``TransportError`` (exit 10)."""
    done = command.run(repo, ["config", *args], what=what, error=RepositoryError, check=False)
    if done.returncode != 0:
        raise RepositoryError(f"{what}: cannot write {common_dir(repo) / 'config'}: "
                              f"{command.clean(done.stderr)}")


def _from_git(repo: Repository, name: str, how: str = "--get") -> list[str]:
    """``git config --get[-all] name``: the values' bytes kept as ``surrogateescape`` text;
    none when git cannot say (unset, or git missing: the value is as good as unset)."""
    try:
        done = command.run(repo, ["config", how, "--", name], what=f"reading {name}",
                           error=RepositoryError, check=False)
    except RepositoryError:
        return []
    return done.stdout.splitlines() if done.returncode == 0 else []
