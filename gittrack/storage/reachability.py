"""Which stored blobs some commits need, asked of every kind of ref whose commits name blobs.

The mark phase of ``gc`` and ``purge``, "which blobs must be in the store before these refs
are pushed" and "which blobs to download after a pull" are one question: the blobs the
commits reachable from some tips (and not from others) name. Each kind of ref that stores
blobs (artifact versions today, run media next) answers it for its own commits as a
``BlobReferrer``, registered here by the package that owns that kind (``gittrack.artifacts``
registers artifact versions when it is imported). Push, pull, gc and purge ask only this
module, so a new kind of ref is kept by gc, uploaded by push and downloaded by pull as soon
as it registers — and gc refuses to run when nothing is registered, rather than collect
every blob.

The walk is ``git.history.reachable_commits``: every commit once, whatever ref reached it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from gittrack.errors import GittrackError
from gittrack.storage.entry import ManifestEntry
from gittrack.types import BlobName, CommitId

if TYPE_CHECKING:  # registering (at ``import gittrack.artifacts``) loads no git
    from gittrack.git.repo import Repository

Reader = Callable[[CommitId], Iterable[ManifestEntry]]
"""The stored files one commit names (nothing for a commit of another kind)."""


class BlobReferrer(Protocol):
    """One kind of ref whose commits name stored blobs."""

    def owns(self, ref: str) -> bool:
        """Whether ``ref`` is of this kind (its commits may name blobs)."""
        ...

    def reader(self, repo: Repository, *, marks_only: bool) -> Reader:
        """A reader for one walk over ``repo``'s commits. It may skip a listing it already
        gave in the same walk (a rewritten chain shares its files with the old one). With
        ``marks_only`` (the mark phase of deletion) only each file's digest and blob name
        need be right, read leniently, so that a commit a remote forged makes gc keep more
        rather than stop it."""
        ...


_REFERRERS: list[BlobReferrer] = []


def register(referrer: BlobReferrer) -> None:
    """Ask ``referrer`` from now on (once, however often it is registered)."""
    if referrer not in _REFERRERS:
        _REFERRERS.append(referrer)


def unregister(referrer: BlobReferrer) -> None:
    if referrer in _REFERRERS:
        _REFERRERS.remove(referrer)


def names_blobs(ref: str) -> bool:
    """Whether ``ref``'s commits may name blobs (some registered kind owns it)."""
    return any(r.owns(ref) for r in _REFERRERS)


def stored_files(repo: Repository, tips: Iterable[str] | Mapping[str, str],
                 stop: Iterable[str] = (), *, marks_only: bool = False
                 ) -> Iterator[ManifestEntry]:
    """Every stored file that the commits reachable from ``tips`` and not from ``stop``
    name, as every registered kind of ref reads them (see ``BlobReferrer.reader``).

    ``tips``: commit ids, each commit read by every kind; or ref name → commit, the commits
    reachable from a ref read only by the kind that owns it (a push of 10,000 runs does not
    open each checkpoint as an artifact version too: half the walk's cost)."""
    if not _REFERRERS:
        raise GittrackError("no kind of ref that stores blobs is registered (importing "
                            "gittrack.artifacts registers artifact versions): nothing can be "
                            "known to be needed")
    from gittrack.git import history

    if isinstance(tips, Mapping):
        stop = list(stop)
        for referrer in list(_REFERRERS):
            own = [tip for ref, tip in tips.items() if referrer.owns(ref)]
            if own:
                read = referrer.reader(repo, marks_only=marks_only)
                for commit in history.reachable_commits(repo, own, stop):
                    yield from read(commit)
        return
    readers = [r.reader(repo, marks_only=marks_only) for r in _REFERRERS]
    for commit in history.reachable_commits(repo, tips, stop):
        for read in readers:
            yield from read(commit)


def needed_entries(repo: Repository, tips: Iterable[str] | Mapping[str, str],
                   stop: Iterable[str] = ()) -> dict[BlobName, ManifestEntry]:
    """Blob name → one stored file naming it, for the commits reachable from ``tips`` and
    not from ``stop`` (e.g. what the remote already has). References have no blob."""
    found: dict[BlobName, ManifestEntry] = {}
    for entry in stored_files(repo, tips, stop):
        if entry.blob is not None:
            found.setdefault(entry.blob, entry)
    return found


def needed_blobs(repo: Repository, tips: Iterable[str]) -> set[BlobName]:
    """Names of the stored blobs that the commits reachable from ``tips`` name.

    >>> needed_blobs(repo, [versions.head(repo, "mnist")])  # doctest: +SKIP
    {'9f86d081884c7d65...', ...}
    """
    return set(needed_entries(repo, tips))
