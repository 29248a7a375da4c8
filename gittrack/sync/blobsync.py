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

from gittrack.errors import BlobNotFoundError
from gittrack.git.repo import Repository
from gittrack.storage.config import default_store_url, load_config
from gittrack.storage.entry import ManifestEntry, stored
from gittrack.storage.reachability import needed_entries

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
    """Make the store hold every blob that the commits reachable from ``tips`` name."""
    entries = needed_entries(repo, tips, stop=remote_has)
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
    lost = [entries[b] for b in missing if not _recoverable(storage, fallback, entries[b])]
    if lost:
        raise _lost_error(storage, lost)
    parallel(lambda blob: _upload(storage, fallback, entries[blob]), missing,
             workers=storage.workers, label="uploading blobs",
             sizes=lambda blob: entries[blob].size)
    return BlobReport(len(entries), len(missing), sum(entries[b].size for b in missing))


def _default_store(repo: Repository, storage: BlobVault) -> BlobStore | None:
    url = default_store_url(repo)
    if storage.url == url or not Path(url).is_dir():
        return None
    from gittrack.blobs.store import BlobStore

    return BlobStore.from_url(url)


def _recoverable(storage: BlobVault, fallback: BlobStore | None,
                 entry: ManifestEntry) -> bool:
    blob, digest = stored(entry)
    if fallback is not None and fallback.exists(blob):
        return True
    # The local cache, or a file here the stat cache says had the bytes (copied into the
    # cache, verified): a teammate's purge may have removed a blob this version shares.
    return storage.names_with_newest_key(entry) and storage.has_plaintext(digest)


def _upload(storage: BlobVault, fallback: BlobStore | None, entry: ManifestEntry) -> None:
    blob, _ = stored(entry)
    if fallback is not None and fallback.exists(blob):
        storage.copy_from(fallback, blob)
    else:
        storage.upload_from_cache(entry)


def _lost_error(storage: BlobVault, lost: list[ManifestEntry]) -> BlobNotFoundError:
    sample = ", ".join(f"{e.path} (blob {str(e.blob)[:12]}…)" for e in lost[:3])
    more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
    return BlobNotFoundError(
        f"{len(lost)} blob(s) of the artifact versions to push are neither in the store "
        f"{storage.url} nor on this machine: {sample}{more}. Nothing was pushed. Put "
        "them back (from a backup, or the machine that logged them, with `gittrack push` "
        "there), or log the artifact again"
    )
