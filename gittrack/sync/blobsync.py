"""Upload the blobs a push will name, before the refs: a teammate who fetches a run or an
artifact version never finds its blobs missing.

A blob absent from the configured store is uploaded from this machine: the default local store
(``.git/gittrack/blobs``, where blobs went before shared storage was configured), the local
plaintext cache (encrypted again for a private project), or a file the stat cache says had
its bytes — the file this clone logged, when the store lost a blob it had found there already
(a teammate's purge), copied into the cache and verified first. Blobs the remote's refs already name
are not checked again, which keeps an up-to-date push fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.reachability import referenced_entries
from gittrack.errors import BlobNotFoundError, KeyMissingError
from gittrack.git.repo import Repository
from gittrack.storage.config import default_store_url, load_config

if TYPE_CHECKING:  # the store (and fsspec) load only when there is a blob to check
    from gittrack.blobs.store import BlobStore
    from gittrack.storage.vault import BlobVault


@dataclasses.dataclass(frozen=True, slots=True)
class BlobReport:
    checked: int = 0
    uploaded: int = 0
    uploaded_bytes: int = 0
    local_only: bool = False
    """The project keeps blobs in ``.git/gittrack/blobs``: teammates cannot download them."""


def upload_missing(repo: Repository, tips: Iterable[str],
                   remote_has: Iterable[str] = ()) -> BlobReport:
    """Make the store hold every blob of the versions reachable from ``tips``."""
    entries = referenced_entries(repo, tips, stop=remote_has)
    config = load_config(repo)
    if config.source == "default":
        return BlobReport(checked=len(entries), local_only=True)
    if not entries:
        return BlobReport()
    from gittrack.storage.project import open_storage
    from gittrack.storage.transfers import parallel

    storage = open_storage(repo)
    missing = sorted(storage.store.missing(entries))
    fallback = _default_store(repo, storage)
    lost = [entries[b] for b in missing if not _recoverable(storage, fallback, entries[b])]
    if lost:
        raise _lost_error(storage, lost)
    parallel(lambda blob: _upload(storage, fallback, entries[blob]), missing,
             workers=storage.workers, label="uploading blobs",
             sizes=lambda blob: entries[blob].size)
    return BlobReport(len(entries), len(missing), sum(entries[b].size for b in missing))


def _default_store(repo: Repository, storage: BlobVault) -> BlobStore | None:
    url = default_store_url(repo)
    if storage.store.url == url or not Path(url).is_dir():
        return None
    from gittrack.blobs.store import BlobStore

    return BlobStore.from_url(url)


def _recoverable(storage: BlobVault, fallback: BlobStore | None,
                 entry: ManifestEntry) -> bool:
    assert entry.blob is not None
    if fallback is not None and fallback.exists(entry.blob):
        return True
    # The local cache, or a file here the stat cache says had the bytes (copied into the
    # cache, verified): a teammate's purge may have removed a blob this version shares.
    return _cache_fits(storage, entry) and (
        storage.cache.has(entry.digest) or storage.cache_from_source(entry.digest))


def _cache_fits(storage: BlobVault, entry: ManifestEntry) -> bool:
    """A cached plaintext can be stored under this entry's name: plaintext, or encrypted
    under the current key (whose keyed name is the entry's)."""
    if entry.blob == entry.digest:
        return True
    try:
        return storage.keys.blob_name(entry.digest) == entry.blob
    except KeyMissingError:
        return False


def _upload(storage: BlobVault, fallback: BlobStore | None, entry: ManifestEntry) -> None:
    assert entry.blob is not None
    if fallback is not None and fallback.exists(entry.blob):
        with storage.temp_file() as raw:  # already in its final form (encrypted if private)
            fallback.get_file(entry.blob, raw)
            storage.store.put_file(entry.blob, raw)
        return
    plain = storage.cache.path(entry.digest)
    if entry.blob == entry.digest:
        storage.store.put_file(entry.blob, plain)
        return
    from gittrack.crypto.age import encrypt_file

    with storage.temp_file() as encrypted:
        encrypt_file(plain, encrypted, [storage.keys.recipient])
        storage.store.put_file(entry.blob, encrypted)


def _lost_error(storage: BlobVault, lost: list[ManifestEntry]) -> BlobNotFoundError:
    sample = ", ".join(f"{e.path} (blob {str(e.blob)[:12]}…)" for e in lost[:3])
    more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
    return BlobNotFoundError(
        f"{len(lost)} blob(s) of the artifact versions to push are neither in the store "
        f"{storage.store.url} nor on this machine: {sample}{more}. Nothing was pushed. Put "
        "them back (from a backup, or the machine that logged them, with `gittrack push` "
        "there), or log the artifact again"
    )
