"""Upload the blobs a push will name, before the refs: a teammate who fetches a run or an
artifact version never finds its blobs missing.

A blob absent from the configured store is uploaded from this machine: the default local store
(``.git/gittrack/blobs``, where blobs went before shared storage was configured), the local
plaintext cache (encrypted again for a private project), or a file the stat cache says had
its bytes — the file this clone logged, when the store lost a blob it had found there already
(a teammate's purge), copied into the cache and verified first. Blobs the remote's refs already name
are not checked again, which keeps an up-to-date push fast.

Per ref (``upload_for_refs``, what ``gittrack push`` does): a blob that is neither in the store
nor on this machine, or whose upload fails, holds back only the refs whose commits name it
(``HeldBack``: a run, an artifact, an alias), each named with the first file at fault; the
other refs go. All or nothing (``upload_missing``, for a ``git push`` that carries the refs
itself and can only be refused whole): such a blob raises before anything is sent.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gittrack.errors import BlobNotFoundError, GittrackError, StorageError
from gittrack.git.repo import Repository
from gittrack.storage.config import default_store_url, load_config
from gittrack.storage.entry import ManifestEntry, stored
from gittrack.storage.reachability import needed_entries, stored_files
from gittrack.types import BlobName

if TYPE_CHECKING:  # the store (and fsspec) load only when there is a blob to check
    from gittrack.blobs.store import BlobStore
    from gittrack.storage.vault import BlobVault


@dataclasses.dataclass(frozen=True, slots=True)
class HeldBack:
    """A ref not pushed because a blob its commits name could not be put in the store."""

    ref: str
    path: str
    """The stored file at fault (the first one, when several are)."""
    blob: BlobName
    reason: str
    """Why that blob is not in the store: lost (nowhere on this machine), or the upload's
    error."""
    others: int = 0
    """How many more of the ref's stored files are at fault."""

    @property
    def lost(self) -> bool:
        return self.reason.startswith(_LOST)


_LOST = "neither in the store"


@dataclasses.dataclass(frozen=True, slots=True)
class BlobReport:
    checked: int = 0
    uploaded: int = 0
    uploaded_bytes: int = 0
    local_only: bool = False
    """The project keeps blobs in ``.git/gittrack/blobs``: teammates cannot download them."""
    held_back: tuple[HeldBack, ...] = ()
    """Refs whose blobs could not be put in the store (``upload_for_refs``): not to be
    pushed."""
    store: str = ""
    """The store's URL, when it was asked."""


def upload_missing(repo: Repository, tips: Iterable[str],
                   remote_has: Iterable[str] = ()) -> BlobReport:
    """Make the store hold every blob that the commits reachable from ``tips`` name, or raise
    (``BlobNotFoundError`` before any upload for a blob nowhere to be found; the store's error
    for a failed upload)."""
    return _upload(repo, {tip: tip for tip in tips}, remote_has, whole=True)


def upload_for_refs(repo: Repository, tips: Mapping[str, str],
                    remote_has: Iterable[str] = ()) -> BlobReport:
    """Make the store hold the blobs that the commits reachable from the refs' ``tips`` (ref
    → commit) name, as far as it can: the refs whose blobs it cannot (lost here and there,
    or the upload failed) are ``held_back``, every other ref's blobs are in the store."""
    return _upload(repo, tips, remote_has, whole=False)


def check_for_refs(repo: Repository, tips: Mapping[str, str],
                   remote_has: Iterable[str] = ()) -> BlobReport:
    """What ``upload_for_refs`` would do, doing none of it (``push --dry-run``): the store is
    asked which blobs it lacks, each one is looked for on this machine without copying it, and
    the refs naming one found nowhere are ``held_back``; ``uploaded`` counts the blobs that
    would be uploaded. Nothing is written, here or in the store."""
    return _upload(repo, tips, remote_has, whole=False, dry_run=True)


def _upload(repo: Repository, tips: Mapping[str, str], remote_has: Iterable[str], *,
            whole: bool, dry_run: bool = False) -> BlobReport:
    stop = list(remote_has)
    # by ref, each ref's commits read by its own kind (``upload_missing``'s keys are commits)
    entries = needed_entries(repo, list(tips.values()) if whole else tips, stop=stop)
    config = load_config(repo)
    if config.source == "default":
        return BlobReport(checked=len(entries), local_only=True)
    if not entries:
        return BlobReport()
    from gittrack.storage.project import open_storage
    from gittrack.storage.transfers import parallel

    storage = open_storage(repo)
    missing = sorted(storage.missing(entries))
    fallback = _default_store(repo, storage)
    lost = [b for b in missing
            if not _recoverable(storage, fallback, entries[b], check_only=dry_run)]
    if lost and whole:
        raise _lost_error(storage, [entries[b] for b in lost])
    bad = {b: f"{_LOST} {storage.url} nor on this machine" for b in lost}
    todo = [b for b in missing if b not in bad]
    if dry_run:
        pass
    elif whole:
        parallel(lambda blob: _upload_one(storage, fallback, entries[blob]), todo,
                 workers=storage.workers, label="uploading blobs",
                 sizes=lambda blob: entries[blob].size)
    else:
        bad |= _upload_each(storage, fallback, entries, todo)
    done = [b for b in missing if b not in bad]
    held = _held_back(repo, tips, stop, bad) if bad else ()
    return BlobReport(len(entries), len(done), sum(entries[b].size for b in done),
                      held_back=held, store=storage.url)


def _upload_each(storage: BlobVault, fallback: BlobStore | None,
                 entries: Mapping[BlobName, ManifestEntry],
                 blobs: list[BlobName]) -> dict[BlobName, str]:
    """Upload ``blobs``; the reason of each one that failed. A failure of the blob's own (its
    local copy unreadable or damaged) costs only that blob; once the store itself fails (it
    refused, or went away) the uploads not started yet are not tried."""
    from gittrack.storage.transfers import parallel

    failed: dict[BlobName, str] = {}
    store_down: list[str] = []
    lock = threading.Lock()

    def one(blob: BlobName) -> None:
        if store_down:
            with lock:
                failed[blob] = f"not uploaded: the store failed first: {store_down[0]}"
            return
        try:
            _upload_one(storage, fallback, entries[blob])
        except (GittrackError, OSError) as exc:
            with lock:
                failed[blob] = f"upload failed: {exc}"
                if isinstance(exc, StorageError) and not isinstance(exc, BlobNotFoundError):
                    store_down.append(str(exc))

    parallel(one, blobs, workers=storage.workers, label="uploading blobs",
             sizes=lambda blob: entries[blob].size)
    return failed


def _held_back(repo: Repository, tips: Mapping[str, str], stop: list[str],
               bad: Mapping[BlobName, str]) -> tuple[HeldBack, ...]:
    """The refs whose commits (reachable from their tip, not from ``stop``) name a blob of
    ``bad``: one walk per ref, made only when some blob is at fault."""
    held = []
    for ref, tip in sorted(tips.items()):
        faults = [e for e in stored_files(repo, {ref: tip}, stop)
                  if e.blob is not None and e.blob in bad]
        if faults:
            first = faults[0]
            assert first.blob is not None
            others = len({(e.path, e.blob) for e in faults}) - 1
            held.append(HeldBack(ref, first.path, first.blob, bad[first.blob], others))
    return tuple(held)


def _default_store(repo: Repository, storage: BlobVault) -> BlobStore | None:
    url = default_store_url(repo)
    if storage.url == url or not Path(url).is_dir():
        return None
    from gittrack.blobs.store import BlobStore

    return BlobStore.from_url(url)


def _recoverable(storage: BlobVault, fallback: BlobStore | None,
                 entry: ManifestEntry, *, check_only: bool = False) -> bool:
    blob, digest = stored(entry)
    if fallback is not None and fallback.exists(blob):
        return True
    # The local cache, or a file here the stat cache says had the bytes (copied into the
    # cache, verified): a teammate's purge may have removed a blob this version shares.
    if not storage.names_with_newest_key(entry):
        return False
    if check_only:
        return storage.is_cached(digest) or storage.source_has(digest)
    return storage.has_plaintext(digest)


def _upload_one(storage: BlobVault, fallback: BlobStore | None, entry: ManifestEntry) -> None:
    blob, _ = stored(entry)
    if fallback is not None and fallback.exists(blob):
        storage.copy_from(fallback, blob)
    else:
        storage.upload_from_cache(entry)


def _lost_error(storage: BlobVault, lost: list[ManifestEntry]) -> BlobNotFoundError:
    sample = ", ".join(f"{e.path} (blob {str(e.blob)[:12]}…)" for e in lost[:3])
    more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
    return BlobNotFoundError(
        f"{len(lost)} blob(s) of the runs and artifact versions to push are neither in the "
        f"store {storage.url} nor on this machine: {sample}{more}. Nothing was pushed. Put "
        "them back (from a backup, or the machine that logged them, with `gittrack push` "
        "there), or log them again"
    )
