"""Ref reads and compare-and-swap updates: the one API every layer moves refs with. Listing
by prefix reads the files git keeps refs in (``packedrefs.list_prefixes``): libgit2 can only
iterate every ref, an object each; it still lists other ref storages.

One ref at a time goes through libgit2 (``update_ref``, ``delete_ref``). Many at once — a pull
or a push of 1,000 runs — go through ``update_refs``: one transaction on ``packed-refs``
(``gittrack.git.packedrefs``, which says why and how), or one ref after the other where the
refs are not kept in files (reftable).
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pygit2

from gittrack.errors import ConflictError
from gittrack.git import packedrefs
from gittrack.git.repo import common_dir as common_dir  # read as refs.common_dir by sync/delete
from gittrack.git.repo import writing
from gittrack.types import CommitId, RefName

_REF_LOCK_WAIT_S = 0.1  # git's core.filesRefLockTimeout default
_LOCKED = re.compile(r"lock(?:ed)? file '([^']+\.lock)'")  # libgit2's GIT_ELOCKED message


def list_refs(repo: pygit2.Repository, prefix: str) -> dict[RefName, CommitId]:
    """Every direct ref whose name starts with ``prefix``, with the commit it points at."""
    return list_refs_in(repo, [prefix])[0]


def list_refs_in(repo: pygit2.Repository,
                 prefixes: Sequence[str]) -> list[dict[RefName, CommitId]]:
    """``list_refs`` of each prefix, all read in one pass (from the files where git keeps
    them, ``packedrefs.list_prefixes``: libgit2 makes an object of every ref there is)."""
    fast = packedrefs.list_prefixes(repo, prefixes)
    if fast is not None:
        return fast
    return _list_libgit2(repo, prefixes)


def _list_libgit2(repo: pygit2.Repository,
                  prefixes: Sequence[str]) -> list[dict[RefName, CommitId]]:
    found: list[dict[RefName, CommitId]] = [{} for _ in prefixes]
    for ref in repo.references.iterator():
        name = ref.name
        target = ref.target
        for prefix, listed in zip(prefixes, found, strict=True):
            if name.startswith(prefix) and isinstance(target, pygit2.Oid):
                listed[RefName(name)] = CommitId(str(target))
    return [dict(sorted(listed.items())) for listed in found]  # name order, as git lists


def listing(repo: pygit2.Repository, prefix: str) -> str | None:
    """The refs under ``prefix`` as ``<id> <name>`` lines sorted by name, when they can be
    read so at once (``packedrefs.packed_lines``: all packed); else ``None`` (``list_refs``).
    For comparing large listings as texts."""
    return packedrefs.packed_lines(repo, prefix)


def get_ref(repo: pygit2.Repository, name: RefName) -> CommitId | None:
    ref = repo.references.get(name)
    if ref is None or not isinstance(ref.target, pygit2.Oid):
        return None
    return CommitId(str(ref.target))


def update_ref(
    repo: pygit2.Repository, name: RefName, new: CommitId, old: CommitId | None
) -> None:
    """Point ``name`` at ``new`` only if it still points at ``old`` (``None``: must not exist).

    A ref locked by another writer (``<ref>.lock``: a pull, ``git gc``) is waited for as git
    waits (``core.filesRefLockTimeout``), then refused with ``ConflictError``; a ref that
    cannot be written (full disk, read-only ``.git``) is a ``RepositoryError``."""
    with writing(f"ref {name}", common_dir(repo)):
        _while_locked(repo, name, lambda: _update_ref(repo, name, new, old))


def _update_ref(
    repo: pygit2.Repository, name: RefName, new: CommitId, old: CommitId | None
) -> None:
    try:
        if old is None:
            repo.references.create(name, new)
            return
        ref = repo.references.get(name)
        if ref is None or str(ref.target) != old:
            raise ConflictError(f"{name} moved (expected {old[:12]}); not overwriting it")
        ref.set_target(new)  # libgit2 re-checks the old value under the ref's lock
    except (pygit2.AlreadyExistsError, pygit2.GitError) as exc:
        raise ConflictError(f"could not update {name}: {exc}") from None


def delete_ref(repo: pygit2.Repository, name: RefName, old: CommitId) -> None:
    """Delete ``name`` only if it still points at ``old``: a transaction of one (see
    ``update_refs``), not libgit2's delete, which rewrites ``packed-refs`` from a copy read
    before taking ``packed-refs.lock`` (it can undo a pull's transaction that lands between
    the two) and, when that lock is busy, forgets the ref from its cache so that deleting it
    again "succeeds" without deleting it."""
    with writing(f"ref {name}", common_dir(repo)):
        refused = update_refs(repo, [RefUpdate(name, None, old)])
    if refused:
        raise ConflictError(f"{name} moved (expected {old[:12]}) or another process is "
                            "writing it; not deleting it")


def _delete_one(repo: pygit2.Repository, name: RefName, old: CommitId) -> None:
    """``delete_ref`` through libgit2, for ref storages ``update_refs`` does not write."""
    def delete() -> None:
        ref = repo.references.get(name)
        if ref is None or str(ref.target) != old:
            raise ConflictError(f"{name} moved (expected {old[:12]}); not deleting it")
        ref.delete()

    with writing(f"ref {name}", common_dir(repo)):
        _while_locked(repo, name, delete)


def _while_locked(repo: pygit2.Repository, name: str, write: Callable[[], None]) -> None:
    """``write``, again while another writer holds ``<ref>.lock``, for as long as git would
    wait: libgit2 fails at once (pygit2 raises ``OSError``), and a run's final checkpoint
    failed for a pull that held its ref's lock a few milliseconds. A busy ``packed-refs.lock``
    (libgit2 deleting a packed ref) is not retried: see ``delete_ref``."""
    start = time.monotonic()
    while True:
        try:
            write()
            return
        except OSError as exc:
            locked = _LOCKED.search(str(exc))
            if locked is None:
                raise
            lock = locked.group(1)
            if lock.endswith("packed-refs.lock") or time.monotonic() - start > _REF_LOCK_WAIT_S:
                if not os.path.exists(lock):
                    raise  # no other writer: the lock could not be made (read-only, full)
                raise ConflictError(
                    f"{name} is locked by another process ({lock} exists; if no git or "
                    "gittrack command is running, a crashed one left it: remove the file)"
                ) from None
            time.sleep(0.01)


@dataclasses.dataclass(frozen=True, slots=True)
class RefUpdate:
    """Set ``name`` to ``new`` (``None``: delete it) if it points at ``old`` now (``None``:
    it must not exist). ``checked=False`` skips the comparison: for refs only gittrack's sync
    writes, such as the mirror of a remote, whose new value is what the remote has."""

    name: RefName
    new: CommitId | None
    old: CommitId | None = None
    checked: bool = True


def update_refs(repo: pygit2.Repository, updates: Sequence[RefUpdate]) -> tuple[RefUpdate, ...]:
    """Apply ``updates`` in one transaction on ``packed-refs``; return those refused (the ref
    moved, is locked by another writer, its name clashes with an existing ref's folder, or
    another writer set it during the transaction: theirs stands).

    Deleting a ref also deletes its reflog, as git does. Refs are not given reflog entries
    (gittrack's refs have none unless ``core.logAllRefUpdates=always``). Raises
    ``ConflictError`` if ``packed-refs`` stays locked by another process for a second.
    """
    if not updates:
        return ()
    if not packedrefs.supported(repo):
        return _one_by_one(repo, updates)
    return packedrefs.transaction(repo, updates)


def lock_file(repo: pygit2.Repository, name: str) -> Path | None:
    """``<ref>.lock`` if it exists now: another writer is setting ``name``, or one killed
    meanwhile left it (then every write of the ref is refused until someone removes it)."""
    path = common_dir(repo) / (name + ".lock")
    return path if path.is_file() else None


def _one_by_one(repo: pygit2.Repository, updates: Sequence[RefUpdate]) -> tuple[RefUpdate, ...]:
    refused = []
    for u in updates:
        try:
            old = get_ref(repo, u.name) if not u.checked else u.old
            if u.new is None:
                if old is not None:
                    _delete_one(repo, u.name, old)
            elif old != u.new:
                update_ref(repo, u.name, u.new, old)
        except ConflictError:
            refused.append(u)
    return tuple(refused)
