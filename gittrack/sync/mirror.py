"""The local mirror of a remote's refs: ``refs/gittrack-remotes/<remote>/...``.

A fetch lands there first, never on the local refs, so divergence is computed before any local
ref moves, and an interrupted pull leaves the local refs as they were. Push records what it
sent there too, so the next push and pull know what the remote had when we last looked.

Refreshing it is ``git ls-remote`` (the remote's refs), ``git fetch`` of the commits this
clone lacks (no ref written by git), then one transaction writing every mirror ref that
changed and deleting those the remote no longer has (``refs.update_refs``). Beside the refs,
``.git/gittrack/mirrors/<remote>.url`` (shared by all worktrees, as the refs are) records which
URL the mirror describes: a mirror of another URL (the remote was pointed elsewhere) says
nothing about deletions, and neither does a remote left with no runs or artifacts, unless it
carries ``namespace.DELETED_MARK`` (gittrack deleted refs there: its last run was purged).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

from gittrack import atomic
from gittrack.errors import GittrackError, TransportError
from gittrack.git import history, namespace, objects, refs, transport
from gittrack.git.repo import Repository, common_dir
from gittrack.sync import localio
from gittrack.types import CommitId, RefName

# Aliases move anywhere, so "who moved it" needs the value both sides agreed on at the last
# push or pull (a fetch alone must not change it): kept apart from the mirror, under
# ``namespace.BASE_ROOT``. A run or artifact the remote deleted while this clone keeps it (it
# has local changes) leaves its last value there too, once its mirror ref is pruned: a
# tombstone, so later syncs still know.
# ``namespace.DELETED_MARK`` is written on the remote by every gittrack push that deletes refs
# there (rm --remote, purge, artifact rm): "refs were deleted here". A remote left with no run
# or artifact is trusted to have had them deleted only if it carries this mark; one without it
# (emptied by hand, or replaced by a new repository at the same URL) says nothing about
# deletions. Outside ``namespace.ROOT``, so nothing that lists runs, artifacts or aliases sees it.

_SAFE = re.compile(r"\A[A-Za-z0-9._-]+\Z")
_ATTEMPTS = 3


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """This clone's refs under ``refs/gittrack/`` and its sync state for one remote, read in
    one pass (remote refs by their remote names, ``refs/gittrack/...``)."""

    local: dict[str, CommitId]
    mirrored: dict[str, CommitId]
    agreed: dict[str, CommitId]
    """``namespace.BASE_ROOT``: aliases' agreed values, and tombstones of deleted runs and
    artifacts."""

    def last_seen(self) -> dict[str, CommitId]:
        """What each ref was on the remote when we last looked: the mirror (or a tombstone),
        and for aliases the value agreed on at the last push or pull."""
        return {**self.agreed,
                **{r: s for r, s in self.mirrored.items() if not r.startswith(namespace.ALIASES)}}

    def seen(self, ref: str) -> CommitId | None:
        """``last_seen().get(ref)``, without building the whole dict (a pull asks for the
        few refs that differ)."""
        if not ref.startswith(namespace.ALIASES) and ref in self.mirrored:
            return self.mirrored[ref]
        return self.agreed.get(ref)


@dataclasses.dataclass(frozen=True, slots=True)
class Refreshed:
    key: str
    url: str
    before: Snapshot
    after: dict[str, CommitId]
    """The remote's refs now (and the mirror's, once ``updates`` are written)."""
    trusted: bool
    """The mirror described this remote before (same URL, and the remote still has runs or
    artifacts, or carries ``namespace.DELETED_MARK``): a ref it had that is gone now was deleted
    there."""
    updates: list[refs.RefUpdate] = dataclasses.field(default_factory=list)
    """The mirror's changes, tombstones included."""


def mirror_key(repo: Repository, remote: str) -> str:
    """The remote's name (also for a URL or path naming a configured remote's repository:
    ``transport.named_remote``); another URL or path gets a stable name from its hash."""
    remote = transport.named_remote(repo, remote)
    if remote in transport.remotes(repo) and _SAFE.match(remote) and ".." not in remote:
        return remote
    return "url-" + hashlib.sha1(_raw(remote)).hexdigest()[:12]


def mirror_url(repo: Repository, remote: str) -> str:
    """The URL the mirror of ``remote`` records (``remember_url``, ``trusts``): a URL or path
    naming a configured remote's repository is that remote's URL, so the push by path finds
    the history the pulls by name left."""
    return transport.remote_url(repo, transport.named_remote(repo, remote))


def mirror_prefix(key: str) -> str:
    return f"{namespace.MIRROR_ROOT}{key}/"


def to_mirror(key: str, ref: str) -> RefName:
    """``refs/gittrack/runs/x`` → ``refs/gittrack-remotes/<key>/runs/x``."""
    return RefName(mirror_prefix(key) + ref[len(namespace.ROOT):])


def _to_base(key: str, ref: str) -> RefName:
    return RefName(f"{namespace.BASE_ROOT}{key}/{ref[len(namespace.ROOT):]}")


def fetch_refspec(key: str) -> str:
    return f"+{namespace.ROOT}*:{mirror_prefix(key)}*"


def snapshot(repo: Repository, key: str) -> Snapshot:
    mirror, base = mirror_prefix(key), f"{namespace.BASE_ROOT}{key}/"
    local, mirrored, agreed = refs.list_refs_in(repo, [namespace.ROOT, mirror, base])
    return Snapshot(cast("dict[str, CommitId]", local), _as_local(mirrored, mirror),
                    _as_local(agreed, base))


def _as_local(found: Mapping[RefName, CommitId], prefix: str) -> dict[str, CommitId]:
    """``<prefix>x`` → ``refs/gittrack/x``."""
    cut = len(prefix)
    return {namespace.ROOT + name[cut:]: sha for name, sha in found.items()}


@dataclasses.dataclass(frozen=True, slots=True)
class Glance:
    """What ``glance`` saw: whether a sync has nothing to do, and the remote's listing if it
    was read (``remote_refs`` takes it, so a sync that has work lists the remote once)."""

    same: str | None = None
    """This clone's refs (``<id> <name>`` lines), when they, the mirror's and the remote's
    are the same; else ``None``."""
    listed: str | None = None
    """``transport.ls_remote_lines`` of the remote, if read."""


def glance(repo: Repository, remote: str) -> Glance:
    """Whether a sync with ``remote`` has nothing to do: this clone's refs, the mirror's and
    the remote's are the same (compared as texts: a ref per line, no object per ref), every
    alias's agreed value is its value, and the mirror is of this remote's URL. Not ``same``
    when anything differs, or a listing cannot be read at once (loose refs here): then
    compare ref by ref.

    With 100,000 runs, listing and comparing every ref one at a time took most of a second
    before a sync that had nothing to do could say so."""
    # The remote is listed meanwhile (every sync needs its listing): git works while this
    # process reads its own refs, on another core.
    listing = _Listing(repo, remote)
    key = mirror_key(repo, remote)
    local = refs.listing(repo, namespace.ROOT)
    mirrored = refs.listing(repo, mirror_prefix(key))
    agreed = refs.listing(repo, f"{namespace.BASE_ROOT}{key}/")
    listed = listing.result()
    if local is None or mirrored is None or agreed is None \
            or _recorded_url(repo, key) != mirror_url(repo, remote) \
            or _renamed(mirrored, mirror_prefix(key)) != local \
            or _renamed(agreed, f"{namespace.BASE_ROOT}{key}/") != _lines_under(
                local, namespace.ALIASES):
        return Glance(None, listed)
    there = listed.replace("\t", " ")
    mark = _lines_under(there, namespace.DELETED_MARK)
    return Glance(local if (there.replace(mark, "", 1) if mark else there) == local else None,
                  listed)


class _Listing:
    """``transport.ls_remote_lines`` of the remote (and the mark) in a thread: the git
    subprocess runs while the caller reads its own refs (pygit2 holds the GIL, so the two
    threads never use the repository at once)."""

    def __init__(self, repo: Repository, remote: str) -> None:
        import threading

        self._found: list[str] = []
        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(repo, remote), daemon=True)
        self._thread.start()

    def _run(self, repo: Repository, remote: str) -> None:
        try:
            self._found.append(transport.ls_remote_lines(repo, remote, namespace.ROOT,
                                                         also=[namespace.DELETED_MARK]))
        except BaseException as exc:
            self._failed.append(exc)

    def result(self) -> str:
        self._thread.join()
        if self._failed:
            raise self._failed[0]
        return self._found[0]


def _renamed(lines: str, prefix: str) -> str:
    """``<id> <prefix>x`` lines as ``<id> refs/gittrack/x``."""
    return lines.replace(" " + prefix, " " + namespace.ROOT)


def _lines_under(lines: str, prefix: str) -> str:
    """The sorted ``<id> <name>`` lines whose names start with ``prefix`` (one block)."""
    first = lines.find(" " + prefix)
    if first < 0:
        return ""
    start = lines.rfind("\n", 0, first) + 1
    return lines[start:lines.find("\n", lines.rfind(" " + prefix)) + 1]


def fetch_mirror(repo: Repository, remote: str) -> dict[str, CommitId]:
    """Bring the mirror up to the remote's refs (pruning the refs it deleted); returns it."""
    return refresh(repo, remote).after


def refresh(repo: Repository, remote: str) -> Refreshed:
    """``ls-remote``, fetch the commits missing here, then write the mirror in one go."""
    fetched = look(repo, remote)
    write(repo, fetched)
    return fetched


def look(repo: Repository, remote: str, listed: str | None = None) -> Refreshed:
    """``refresh`` without writing the mirror: the caller passes the result to ``write``
    (with its own changes, in the same transaction). ``listed``: the remote's listing, if
    just read (``glance``)."""
    key = mirror_key(repo, remote)
    before = snapshot(repo, key)
    after, marked = _fetch_tips(repo, remote,
                                {*before.local.values(), *before.mirrored.values()}, listed)
    url = mirror_url(repo, remote)
    trusted = trusts(repo, key, url, before.mirrored, after, marked)
    mirrored = before.mirrored
    updates = [] if after == mirrored else [
        refs.RefUpdate(to_mirror(key, ref), sha, checked=False)
        for ref, sha in after.items() if mirrored.get(ref) != sha]
    for ref, sha in before.mirrored.items():
        if ref not in after:
            updates.append(refs.RefUpdate(to_mirror(key, ref), None, checked=False))
            if trusted and ref in before.local and not ref.startswith(namespace.ALIASES):
                updates.append(refs.RefUpdate(_to_base(key, ref), sha, checked=False))
    # Tombstones of refs back on the remote go; untrusted, so does every agreed value and
    # tombstone of a ref the remote lacks (they describe another remote).
    updates += [refs.RefUpdate(_to_base(key, ref), None, checked=False)
                for ref in before.agreed if (ref in after and not ref.startswith(namespace.ALIASES))
                or (not trusted and ref not in after)]
    return Refreshed(key, url, before, after, trusted, updates)


def write(repo: Repository, fetched: Refreshed,
          more: Sequence[refs.RefUpdate] = ()) -> tuple[refs.RefUpdate, ...]:
    """The mirror's ``updates`` and ``more`` in one transaction; then the mirror is of this
    URL. Returns the refused updates."""
    refused = localio.write_refs(repo, [*fetched.updates, *more])
    remember_url(repo, fetched.key, fetched.url)
    return refused


def reset_updates(key: str, before: Snapshot,
                  there: Mapping[str, str]) -> list[refs.RefUpdate]:
    """An untrusted mirror made to describe ``there`` (the remote's refs, from a push's
    ``ls-remote``) as far as deletions go: what the remote lacks leaves the mirror, the agreed
    values and the tombstones."""
    return [refs.RefUpdate(name(key, ref), None, checked=False)
            for name, known in ((to_mirror, before.mirrored), (_to_base, before.agreed))
            for ref in known if ref not in there]


def trusts(repo: Repository, key: str, url: str, mirrored: Mapping[str, str],
           there: Mapping[str, str], marked: bool) -> bool:
    """Whether a ref in ``mirrored`` (the mirror before) and not in ``there`` (the remote now)
    was deleted on the remote: the mirror is of this URL, and the remote is not empty or is
    ``marked`` (it carries ``namespace.DELETED_MARK``: gittrack deleted refs there). An empty remote
    without the mark was more likely replaced or emptied by hand than had every run deleted.
    Code refs (``namespace.CODE``) do not count: they stay behind the runs until a ``gc``."""
    kept = any(not ref.startswith(namespace.CODE) for ref in there)
    return _recorded_url(repo, key) == url and bool(kept or marked or not mirrored)


def known_elsewhere(repo: Repository, key: str, marked: bool) -> dict[str, CommitId]:
    """For a push to ``key``: refs to take as deleted there if the remote lacks them.

    A URL or path that is no configured remote's address (``mirror_key`` gave it a hash) may
    still be the repository some remote of ours is, reached another way (ssh and https, a
    symlink, a remote since removed), and the history of that remote's mirror cannot be found
    from here. If the remote is ``marked`` (refs were deleted there), every ref this clone got
    from any remote (another mirror's ref or tombstone) is held unless the remote has it:
    pushing it could bring back a purged run. Refs made only here are never held, and a push
    with ``--force`` (recorded in this mirror) settles it (docs/decisions.md)."""
    if not marked or key in transport.remotes(repo):
        return {}
    found: dict[str, CommitId] = {}
    for name, sha in refs.list_refs(repo, namespace.EVERY).items():
        for root in (namespace.MIRROR_ROOT, namespace.BASE_ROOT):
            other, _, rest = name[len(root):].partition("/")
            if name.startswith(root) and other != key and rest:
                found.setdefault(namespace.ROOT + rest, sha)
    return found


def remote_refs(repo: Repository, remote: str,
                listed: str | None = None) -> tuple[dict[str, str], bool]:
    """The remote's refs under ``namespace.ROOT``, and whether it carries
    ``namespace.DELETED_MARK``: one ``ls-remote`` (none if its lines are ``listed``)."""
    also = [namespace.DELETED_MARK]
    there = (transport.ls_remote(repo, remote, namespace.ROOT, also=also) if listed is None
             else transport.parse_ls_remote(listed, namespace.ROOT, also))
    marked = there.pop(namespace.DELETED_MARK, None) is not None
    return there, marked


def deletion_mark(repo: Repository) -> str:
    """A refspec setting ``namespace.DELETED_MARK`` on a remote (forced: any value will do; only its
    presence is read). The commit names nothing deleted, so a purge leaves no trace in it."""
    tree = objects.write_tree(repo, None, {})
    mark = objects.commit(repo, tree, [], "gittrack: refs were deleted on this remote\n")
    return f"+{mark}:{namespace.DELETED_MARK}"


def _fetch_tips(repo: Repository, remote: str, here: set[CommitId],
                listed: str | None = None) -> tuple[dict[str, CommitId], bool]:
    """The remote's refs, with every commit they name present here. Tips that are already a
    ref here need no fetch (git keeps what refs reach complete); the others are fetched by id.
    A ref moved or deleted between the listing and the fetch makes it list again."""
    for attempt in range(_ATTEMPTS):
        found, marked = remote_refs(repo, remote, listed if attempt == 0 else None)
        there = cast("dict[str, CommitId]", found)
        need = sorted({sha for sha in there.values() if sha not in here})
        try:
            transport.fetch_objects(repo, remote, need)
        except TransportError:
            if attempt + 1 == _ATTEMPTS or remote_refs(repo, remote)[0] == there:
                raise
            continue
        if all(history.exists(repo, sha) for sha in need):
            return there, marked
    raise TransportError(f"the refs of {transport.display_url(repo, remote)} kept moving "
                         "while they were fetched; try again")


def record_updates(key: str, changes: Iterable[tuple[str, str | None]],
                   agreed: Mapping[str, str]) -> list[refs.RefUpdate]:
    """The remote now has ``sha`` for each ``ref`` (``None``: no longer has it), after a push:
    its mirror ref, for an alias the value both sides agree on, and no tombstone."""
    out = []
    for ref, sha in changes:
        out.append(refs.RefUpdate(to_mirror(key, ref), _commit(sha), checked=False))
        if ref.startswith(namespace.ALIASES):
            out.append(refs.RefUpdate(_to_base(key, ref), _commit(sha), checked=False))
        elif ref in agreed:
            out.append(refs.RefUpdate(_to_base(key, ref), None, checked=False))
    return out


def forget_updates(key: str, deleted: Iterable[str]) -> list[refs.RefUpdate]:
    """Refs deleted here after the remote deleted them: their agreed values and tombstones."""
    return [refs.RefUpdate(_to_base(key, ref), None, checked=False) for ref in deleted]


def agree_updates(key: str, changes: Iterable[tuple[str, str | None]],
                  agreed: Mapping[str, str]) -> list[refs.RefUpdate]:
    """Both sides hold ``sha`` for ``ref`` now (after a pull): aliases whose agreed value
    changes."""
    return [refs.RefUpdate(_to_base(key, ref), _commit(sha), checked=False)
            for ref, sha in changes if ref.startswith(namespace.ALIASES) and agreed.get(ref) != sha]


def remember_url(repo: Repository, key: str, url: str) -> None:
    """The mirror ``key`` now describes ``url``."""
    path = _url_file(repo, key)
    if _recorded_url(repo, key) == url:
        return
    # without it, the next pull only keeps deleted refs it could have removed
    with contextlib.suppress(GittrackError):
        atomic.write_atomic(path, _raw(url) + b"\n", parents=True)


def _recorded_url(repo: Repository, key: str) -> str | None:
    try:
        return _url_file(repo, key).read_bytes().decode("utf-8", "surrogateescape").strip()
    except OSError:
        return None


def _raw(url: str) -> bytes:
    """A URL or path as git has it: bytes that are not UTF-8 come from git and the file system
    as lone surrogates (``surrogateescape``), kept as those bytes, losslessly."""
    return url.encode("utf-8", "surrogateescape")


def _url_file(repo: Repository, key: str) -> Path:
    """In the common git folder, as the mirror refs it describes: from a linked worktree,
    ``gittrack_dir`` is that worktree's, and a pull there found no record, took the mirror
    for another URL's and dropped every tombstone."""
    return common_dir(repo) / "gittrack" / "mirrors" / f"{key}.url"


def _commit(sha: str | None) -> CommitId | None:
    return CommitId(sha) if sha is not None else None
