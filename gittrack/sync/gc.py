"""``gittrack gc``: blobs no remaining run or artifact names, removed from the store.

Mark: every blob that a commit reachable from the local refs (``refs/gittrack/*``) names, as
every kind of ref that stores blobs reads it (``storage.reachability``), and from the mirrors
of the remotes' refs (``refs/gittrack-remotes/*``, the given remote fetched first), so a
teammate's pushed work is never collected because this clone had not fetched it. Sweep: the
store's blobs not marked and older than the grace period (a teammate's push uploads blobs
*before* it pushes the refs naming them), stale temporary uploads, and plaintext copies in the
local cache that nothing names any more.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gittrack.blobs.names import is_plaintext
from gittrack.blobs.store import BlobInfo
from gittrack.errors import FormatError, KeyMissingError, UsageError
from gittrack.git import namespace, refs, transport
from gittrack.git.repo import Repository
from gittrack.storage import reachability
from gittrack.storage.entry import ManifestEntry, stored
from gittrack.storage.project import has_keyring, open_storage
from gittrack.storage.vault import BlobVault
from gittrack.sync import localio, mirror
from gittrack.types import BlobName, Digest

if TYPE_CHECKING:
    from gittrack.sync.purge import Finished

DEFAULT_GRACE = 24 * 3600.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


@dataclasses.dataclass(frozen=True, slots=True)
class GcReport:
    removed: tuple[BlobInfo, ...]
    young: int  # unreferenced but within the grace period: kept
    temps: int  # stale temporary uploads removed
    cache: int  # local cache entries removed
    marked: int  # blobs still referenced
    roots: tuple[str, ...]  # where marking started: "local", and each remote's mirror
    dry_run: bool = False
    finished: tuple[Finished, ...] = ()
    """Interrupted purges finished first (``sync/purge.py``)."""

    @property
    def size(self) -> int:
        return sum(b.size for b in self.removed)


def parse_duration(text: str) -> float:
    """``"30m"``, ``"12h"``, ``"7d"``, ``"2w"``, ``"90s"`` or ``"0"`` → seconds."""
    match = _DURATION.match(str(text))
    if match is None:
        raise UsageError(f"{text!r} is not a duration: use a number with s, m, h, d or w "
                         "(30m, 12h, 7d), or 0")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def mark_roots(repo: Repository, remote: str | None) -> tuple[list[str], tuple[str, ...]]:
    """The commits to mark from, after fetching ``remote``'s refs into its mirror."""
    if remote is not None:
        mirror.fetch_mirror(repo, transport.check_remote(repo, remote))
    tips: list[str] = list(refs.list_refs(repo, namespace.ROOT).values())
    keys = set()
    for name, sha in refs.list_refs(repo, namespace.MIRROR_ROOT).items():
        tips.append(sha)
        keys.add(name[len(namespace.MIRROR_ROOT):].partition("/")[0])
    return tips, ("local", *sorted(keys))


def marked(repo: Repository, storage: BlobVault,
           tips: Iterable[str]) -> tuple[set[BlobName], set[Digest]]:
    """The mark phase: (blob names, digests) that the versions reachable from ``tips`` need
    (read leniently: a forged version can only make this keep more)."""
    try:
        return live_names(storage, reachability.stored_files(repo, tips, marks_only=True),
                          has_keyring(repo))
    except FormatError as exc:
        raise FormatError(
            f"{exc}; nothing was deleted: what that version names cannot be known. "
            "`git for-each-ref --contains COMMIT refs/gittrack/` names its ref; "
            "`gittrack artifact rm NAME` removes it") from None


def live_names(storage: BlobVault, entries: Iterable[ManifestEntry],
               private_project: bool) -> tuple[set[BlobName], set[Digest]]:
    """(blob names, digests) still needed. An encrypted blob may live under the newest key's
    name instead of the manifest's (``keys rm --reencrypt``): both are kept."""
    blobs: set[BlobName] = set()
    digests: set[Digest] = set()
    encrypted: set[Digest] = set()
    for entry in entries:
        if entry.blob is None:
            continue
        blob, digest = stored(entry)
        blobs.add(blob)
        digests.add(digest)
        if not is_plaintext(blob, digest):
            encrypted.add(digest)
    if encrypted:
        try:
            blobs.update(storage.newest_name(d) for d in encrypted)
        except KeyMissingError as exc:
            if private_project:
                raise KeyMissingError(f"gc must know which blobs the project key names: {exc}") \
                    from None
    return blobs, digests


def collect(repo: Repository, *, remote: str | None = None,
            grace: float = DEFAULT_GRACE, dry_run: bool = False,
            storage: BlobVault | None = None, now: float | None = None) -> GcReport:
    """Remove what nothing references from the store and the local cache (see module doc)."""
    from gittrack.sync.purge import finish_interrupted  # purge builds on gc's marking

    finished = () if dry_run else finish_interrupted(repo)
    storage = storage or open_storage(repo)
    tips, roots = mark_roots(repo, remote)
    blobs, digests = marked(repo, storage, tips)
    cutoff = (time.time() if now is None else now) - grace
    removed, young = _sweep_store(storage, blobs, cutoff if grace > 0 else None, dry_run)
    temps = _sweep_temps(storage, cutoff, dry_run)
    cache = _sweep_cache(storage, digests, dry_run)
    if not dry_run:
        _sweep_stat_cache(storage, digests)
    return GcReport(tuple(removed), young, temps, cache, len(blobs), roots, dry_run, finished)


def _sweep_store(storage: BlobVault, live: set[BlobName], cutoff: float | None,
                 dry_run: bool) -> tuple[list[BlobInfo], int]:
    """``cutoff`` None: no grace at all (purge, ``--grace 0``)."""
    removed, young = [], 0
    for blob in storage.iter_blobs():
        if blob.name in live:
            continue
        # A blob of unknown age could be a push in flight: only "no grace" removes it.
        if cutoff is not None and (blob.modified is None or blob.modified > cutoff):
            young += 1
            continue
        removed.append(blob)
        if not dry_run:
            storage.delete(blob.name)
    return sorted(removed, key=lambda b: b.name), young


def _sweep_temps(storage: BlobVault, cutoff: float, dry_run: bool) -> int:
    """Uploads that died half-way (temporary names beside their blob) older than the grace."""
    count = 0
    for path, when in storage.temps():
        if when is not None and when <= cutoff:
            count += 1
            if not dry_run:
                storage.delete_temp(path)
    return count


def _sweep_stat_cache(storage: BlobVault, live: set[Digest]) -> None:
    """Source paths hashed to a digest nothing names any more (its artifact was removed):
    they are the user's folder names, not to be kept (``docs/security.md``). A file being
    logged right now only costs a second hash."""
    known = storage.source_digests()
    if known:
        storage.forget_sources(known - live)


def _sweep_cache(storage: BlobVault, live: set[Digest], dry_run: bool) -> int:
    count = 0
    for path, digest in storage.cache_entries():
        if digest not in live:
            count += 1
            if not dry_run:
                with localio.repository_io(path, "the local cache keeps it"):
                    path.unlink(missing_ok=True)
    return count
