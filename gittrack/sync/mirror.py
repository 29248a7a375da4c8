"""The local mirror of a remote's refs: ``refs/gittrack-remotes/<remote>/...``.

A fetch lands there first, never on the local refs, so divergence is computed before any local
ref moves, and an interrupted pull leaves the local refs as they were. Push records what it
sent there too, so the next push and pull know what the remote had when we last looked.
"""

from __future__ import annotations

import hashlib
import re

import pygit2

from gittrack.git import refs, transport
from gittrack.types import CommitId, RefName

LOCAL_ROOT = "refs/gittrack/"
MIRROR_ROOT = "refs/gittrack-remotes/"
# Aliases move anywhere, so "who moved it" needs the value both sides agreed on at the last
# push or pull (a fetch alone must not change it): kept apart from the mirror.
BASE_ROOT = "refs/gittrack-sync/"
ALIASES = "refs/gittrack/aliases/"
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def mirror_key(repo: pygit2.Repository, remote: str) -> str:
    """The remote's name; a URL or path given instead gets a stable name from its hash."""
    if remote in transport.remotes(repo) and _SAFE.match(remote) and ".." not in remote:
        return remote
    return "url-" + hashlib.sha1(remote.encode()).hexdigest()[:12]


def mirror_prefix(key: str) -> str:
    return f"{MIRROR_ROOT}{key}/"


def to_mirror(key: str, ref: str) -> RefName:
    """``refs/gittrack/runs/x`` → ``refs/gittrack-remotes/<key>/runs/x``."""
    return RefName(mirror_prefix(key) + ref[len(LOCAL_ROOT):])


def fetch_refspec(key: str) -> str:
    return f"+{LOCAL_ROOT}*:{mirror_prefix(key)}*"


def read_mirror(repo: pygit2.Repository, key: str) -> dict[str, CommitId]:
    """The remote's refs as last seen, under their remote names (``refs/gittrack/...``)."""
    prefix = mirror_prefix(key)
    return {LOCAL_ROOT + name[len(prefix):]: sha
            for name, sha in refs.list_refs(repo, prefix).items()}


def fetch_mirror(repo: pygit2.Repository, remote: str) -> dict[str, CommitId]:
    """Bring the mirror up to the remote's refs (pruning the refs it deleted); returns it."""
    key = mirror_key(repo, remote)
    transport.fetch(repo, remote, [fetch_refspec(key)], prune=True)
    return read_mirror(repo, key)


def last_seen(repo: pygit2.Repository, key: str,
              mirrored: dict[str, CommitId]) -> dict[str, CommitId]:
    """What each ref was on the remote when we last looked: the mirror, and for aliases the
    value agreed on at the last sync."""
    prefix = f"{BASE_ROOT}{key}/"
    agreed = {LOCAL_ROOT + name[len(prefix):]: sha
              for name, sha in refs.list_refs(repo, prefix).items()}
    return {**{r: s for r, s in mirrored.items() if not r.startswith(ALIASES)}, **agreed}


def agree(repo: pygit2.Repository, key: str, ref: str, sha: str | None) -> None:
    """Both sides hold ``sha`` for ``ref`` now (after a push or pull)."""
    if ref.startswith(ALIASES):
        _set(repo, RefName(f"{BASE_ROOT}{key}/{ref[len(LOCAL_ROOT):]}"), sha)


def record(repo: pygit2.Repository, key: str, ref: str, sha: str | None) -> None:
    """Set (or, ``None``, drop) the mirror of ``ref`` after a push: the remote has it now."""
    _set(repo, to_mirror(key, ref), sha)
    agree(repo, key, ref, sha)


def _set(repo: pygit2.Repository, name: RefName, sha: str | None) -> None:
    current = repo.references.get(name)
    if sha is None:
        if current is not None:
            current.delete()
    elif current is None:
        repo.references.create(name, sha)
    elif str(current.target) != sha:
        current.set_target(sha)
