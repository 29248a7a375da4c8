"""``BlobVault``: files in and out of the blob store, encrypted for private projects.

put  = one stat per file and one read of the stat cache: only new or changed files are hashed
       → skip blobs the store has (dedup across files, versions and runs; blobs this machine
       saw there lately are not asked about again) → encrypt to a temporary file (private)
       → upload.
get  = the local plaintext cache, else download → decrypt (private) → verify the sha256 →
       cache → copy into place, verified.

The store never sees a key or plaintext of a private project: blob names are keyed
(``ProjectKeys.blob_name``) and bytes are age-encrypted. A blob name equal to the digest is
plaintext (``blobs.names.is_plaintext``), any other name is encrypted, so a project that
turned private later still reads its old blobs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gittrack.blobs.backends import no_room
from gittrack.blobs.cache import LocalCache
from gittrack.blobs.hashing import hash_file
from gittrack.blobs.names import is_digest, is_plaintext, public_blob_name
from gittrack.blobs.statcache import StatCache
from gittrack.blobs.store import BlobInfo, BlobStore
from gittrack.errors import (
    BlobNotFoundError,
    DecryptionError,
    KeyMissingError,
    RepositoryError,
    StorageError,
    UsageError,
)
from gittrack.storage.entry import ManifestEntry, stored
from gittrack.storage.materialize import (
    copy_stream,
    replacing,
    unique_name,
    write_verified,
    writing,
)
from gittrack.storage.references import OptionsFor, fetch_reference
from gittrack.storage.transfers import error_context, parallel
from gittrack.types import BlobName, Digest

if TYPE_CHECKING:
    from gittrack.crypto.keys import ProjectKeys

KeySource = Callable[[], "ProjectKeys"]
_Digest = tuple[Digest, int, os.stat_result]
"""A file's sha256, its size as hashed, and its stat taken before hashing."""
DEFAULT_WORKERS = 8
_TEMP_MARK = ".tmp-"
"""In the name of an upload in progress (``blobs.names.temp_name``)."""
Rewrap = Literal["rewritten", "current", "missing"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Hashed:
    name: str
    source: Path
    digest: Digest
    size: int
    stat: os.stat_result


def _no_options(uri: str) -> Mapping[str, Any]:
    return {}


class BlobVault:
    """The blob store, the local caches and (private projects) the keys, composed."""

    def __init__(self, store: BlobStore, cache: LocalCache, stat_cache: StatCache,
                 temp_dir: Path, *, keys: KeySource | None = None,
                 private: bool | None = None, reference_options: OptionsFor = _no_options,
                 workers: int | None = None, local_store: bool = False) -> None:
        self.store = store
        self.cache = cache
        self.stat_cache = stat_cache
        self.temp_dir = temp_dir
        # Writes are encrypted iff private; keys may also be given to a public project that
        # has some, to read the blobs it stored while it was private.
        self.private = keys is not None if private is None else private
        self.reference_options = reference_options
        self.workers = workers or DEFAULT_WORKERS
        self._key_source = keys
        self._keys: ProjectKeys | None = None
        self._keys_lock = threading.Lock()
        self._temp_ready = False
        self.local_store = local_store

    @classmethod
    def create(cls, *, url: str, options: Mapping[str, Any], state_dir: Path,
               keys: KeySource | None, private: bool | None = None,
               reference_options: OptionsFor = _no_options,
               workers: int | None = None) -> BlobVault:
        """Storage at ``url`` with its caches under ``state_dir`` (``.git/gittrack``)."""
        cache = state_dir / "cache"
        store = BlobStore.from_url(url, options, presence=cache / "presence.sqlite")
        return cls(store, LocalCache(cache / "blobs"), StatCache(cache / "stat.sqlite"),
                   state_dir / "tmp",
                   keys=keys, private=private, reference_options=reference_options,
                   workers=workers,
                   local_store="://" not in url or url.startswith("file://"))

    @property
    def keys(self) -> ProjectKeys:
        """The project keys, unlocked on first use."""
        if self._key_source is None:
            raise KeyMissingError(
                "this blob is encrypted, and this project has no keys (.gittrack/keys): "
                "check out the branch that has them, or ask a member for access"
            )
        with self._keys_lock:
            if self._keys is None:
                self._keys = self._key_source()
            return self._keys

    def blob_name(self, digest: Digest) -> BlobName:
        return self.keys.blob_name(digest) if self.private else public_blob_name(digest)

    # -- put ---------------------------------------------------------------------------------
    def put_file(self, path: Path, name: str | None = None) -> ManifestEntry:
        """Store one file; the entry is named ``name`` (default: the file's name)."""
        return self.put_files([(name or path.name, path)])[0]

    def put_files(self, items: Sequence[tuple[str, str | Path]], *,
                  what: str = "artifact") -> list[ManifestEntry]:
        """Store files (``(name, local path)`` pairs) and return their manifest rows.

        Raises before returning anything if one fails; blobs uploaded until then stay in the
        store (content-addressed, harmless, reclaimed by garbage collection).
        """
        if self.private:
            self.keys  # noqa: B018 - unlock first: a missing key should not wait for hashing
        files = list(items)
        hashed = self._hash_all(files, what)
        entries = [ManifestEntry(name, digest, size, self.blob_name(digest))
                   for (name, _), (digest, size, _) in zip(files, hashed, strict=True)]
        try:
            with error_context(what):
                missing = self.store.missing({e.blob for e in entries if e.blob is not None},
                                             trust_seen=True)
            uploads = _uploads(files, hashed, entries, missing) if missing else {}
            parallel(lambda u: self._upload(u[0], u[1], what), list(uploads.items()),
                     workers=self.workers, label=f"uploading {what}", sizes=lambda u: u[1].size)
        finally:
            self.store.flush()  # what was uploaded, even if not all of it
        return entries

    def keep(self, path: Path, name: str, *, what: str = "media") -> ManifestEntry:
        """Store a file this machine made (media, console output, saved code) as ``name``.

        Its plaintext goes to the local cache (reads need no download). A local store (a
        folder, the default) gets the blob now, encrypted for a private project; a remote one
        gets it at ``push`` (``sync.blobsync`` uploads what the cache holds), so a training
        run never waits on the network and works offline."""
        with error_context(f"{what}, file {name}"):
            digest, size = hash_file(path)
            entry = ManifestEntry(name, digest, size, self.blob_name(digest))
            self.cache.add(path, digest)
            blob = entry.blob
            assert blob is not None
            if self.local_store and not self.store.exists(blob):
                self.upload_plain(blob, self.cache.path(digest), encrypt=self.private)
                self.store.flush()
        return entry

    def _hash_all(self, files: list[tuple[str, str | Path]], what: str) -> list[_Digest]:
        """``(digest, size, stat before hashing)`` of each file: one stat per file and one
        read of the stat cache for all of them; only new or changed files are read, in
        parallel, and recorded in one transaction."""
        looked = time.time_ns()  # before any stat: the racy-clean test is against this
        stats = [_source_stat(name, source, what) for name, source in files]
        known = self.stat_cache.lookup_many(
            [(source, st) for (_, source), st in zip(files, stats, strict=True)])
        hashed: list[_Digest | None] = [
            None if digest is None else (digest, st.st_size, st)
            for digest, st in zip(known, stats, strict=True)]
        todo = [i for i, digest in enumerate(known) if digest is None]
        fresh: list[tuple[str | Path, os.stat_result, Digest]] = []  # list.append: thread-safe
        try:
            if todo:
                done = parallel(lambda i: self._hash(files[i], stats[i], what, fresh), todo,
                                workers=self.workers, label=f"hashing {what}",
                                sizes=lambda i: stats[i].st_size)
                for i, result in zip(todo, done, strict=True):
                    hashed[i] = result
        finally:
            self.stat_cache.record_many(fresh, stat_time_ns=looked)  # even if not all
        return [h for h in hashed if h is not None]

    def _hash(self, item: tuple[str, str | Path], before: os.stat_result, what: str,
              fresh: list[tuple[str | Path, os.stat_result, Digest]]) -> _Digest:
        name, source = item
        with error_context(f"{what}, file {name}"):
            digest, size = hash_file(Path(source))
        if _same_file(before, _stat(source)):
            fresh.append((source, before, digest))
        return digest, size, before

    def _upload(self, blob: BlobName, h: _Hashed, what: str) -> None:
        with error_context(f"{what}, file {h.name}"):
            self.upload_plain(blob, h.source, encrypt=self.private,
                              encrypted=lambda: self._check_unchanged(h, blob, uploaded=False))
            self._check_unchanged(h, blob, uploaded=True)

    def upload_plain(self, blob: BlobName, plain: Path, *, encrypt: bool,
                     keys: ProjectKeys | None = None,
                     encrypted: Callable[[], None] | None = None) -> None:
        """Store the plaintext file ``plain`` as ``blob``: as it is, or (``encrypt``)
        age-encrypted to ``keys`` (default: the project's) in a temporary file first, and
        ``encrypted()`` called before that file is uploaded."""
        if not encrypt:
            self.store.put_file(blob, plain)
            return
        from gittrack.crypto.age import encrypt_file

        recipient = (keys or self.keys).recipient
        with self.temp_file() as ciphertext:
            encrypt_file(plain, ciphertext, [recipient])
            if encrypted is not None:
                encrypted()
            self.store.put_file(blob, ciphertext)

    def _check_unchanged(self, h: _Hashed, blob: BlobName, *, uploaded: bool) -> None:
        """A file rewritten between hashing and reading for upload would store other bytes
        under its digest; readers would catch it, but refuse it here, where it can be fixed."""
        if _same_file(h.stat, _stat(h.source)):
            return
        if uploaded:
            self.store.delete(blob)
        raise UsageError(f"{h.source} changed while it was stored; write it fully, then log it")

    # -- get ---------------------------------------------------------------------------------
    def fetch(self, entry: ManifestEntry, dst: Path, *, what: str = "artifact") -> Path:
        """Materialise ``entry`` at ``dst``, verified; skipped when ``dst`` already has it."""
        label = f"{what}, file {entry.path}"
        if self._up_to_date(entry, dst):
            return dst
        with error_context(label):
            if entry.ref is not None:
                fetch_reference(entry, dst, self.reference_options, what=label)
                return dst
            blob, digest = stored(entry)
            if self.local_store and is_plaintext(blob, digest):
                self._from_local_store(entry, dst, label)  # the store is a cache already
            elif not self._from_cache(digest, dst):
                self._download(entry, label)
                self._copy_from_cache(digest, dst, verify=False)
        with contextlib.suppress(OSError):  # the next fetch, or add_file of it, skips hashing
            self.stat_cache.record(dst, dst.stat(), digest)
        return dst

    def fetch_many(self, pairs: Sequence[tuple[ManifestEntry, Path]], *,
                   what: str = "artifact") -> None:
        """``fetch`` in parallel, with a progress bar when it takes more than a second."""
        parallel(lambda pair: self.fetch(pair[0], pair[1], what=what), list(pairs),
                 workers=self.workers, label=f"downloading {what}", sizes=lambda p: p[0].size)

    def cached(self, entry: ManifestEntry, *, what: str = "artifact") -> Path:
        """The verified plaintext of a stored entry in the local cache, downloaded if it is
        missing or damaged there. Never modify the file it returns."""
        _, digest = stored(entry)
        path = self.cache.path(digest)
        label = f"{what}, file {entry.path}"
        with error_context(label):
            if self.cache.has(digest):
                if hash_file(path)[0] == digest:
                    return path
                self.cache.remove(digest)
            self._download(entry, label)
        return path

    def _up_to_date(self, entry: ManifestEntry, dst: Path) -> bool:
        digest = entry.sha256
        if digest is None:
            return False  # a remote reference: its etag is not a digest of the local copy
        st = _stat(dst)
        return st is not None and self.stat_cache.lookup(dst, st) == digest

    def _from_local_store(self, entry: ManifestEntry, dst: Path, label: str) -> None:
        """A plaintext blob on this machine: copied straight to ``dst``, verified on the way."""
        blob, digest = stored(entry)
        try:
            with self.store.open(blob) as src:
                write_verified(src, dst, digest, what=label)
        except BlobNotFoundError:
            if not (self._from_cache(digest, dst) or (
                    self.cache_from_source(digest) and self._from_cache(digest, dst))):
                raise self._not_found(entry, label) from None

    def _from_cache(self, digest: Digest, dst: Path) -> bool:
        if not self.cache.has(digest):
            return False
        try:
            self._copy_from_cache(digest, dst, verify=True)
        except DecryptionError:
            self.cache.remove(digest)  # a damaged cache entry: fetch it again
            return False
        return True

    def _copy_from_cache(self, digest: Digest, dst: Path, *, verify: bool) -> None:
        # A copy, not a hard link: editing the downloaded file must never change the cache.
        source = self.cache.path(digest)
        with writing(dst), replacing(dst) as temp:
            if verify:
                with source.open("rb") as src, temp.open("xb") as out:
                    got, _ = copy_stream(src, out)
                if got != digest:
                    raise DecryptionError(f"cached copy of {digest[:16]}… is damaged")
            else:
                shutil.copyfile(source, temp)

    def _download(self, entry: ManifestEntry, label: str) -> None:
        _, digest = stored(entry)
        with self.temp_file() as raw:
            try:
                blob = self._get_blob(entry, raw, label)
            except BlobNotFoundError:
                if self.cache_from_source(digest):
                    return
                raise
            if is_plaintext(blob, digest):  # a plaintext blob (public project)
                self._verify_and_cache(raw, digest, label)
                return
            with self.temp_file() as plain, writing(plain):
                self._decrypt(raw, plain, label)
                self._verify_and_cache(plain, digest, label)

    def _get_blob(self, entry: ManifestEntry, raw: Path, label: str) -> BlobName:
        """Download the manifest's blob; after a key rotation with ``--reencrypt`` the blob
        lives under the newest key's name instead, so that name is tried second."""
        blob, digest = stored(entry)
        names = [blob]
        if self._key_source is not None and not is_plaintext(blob, digest):
            names += [n for n in [self.keys.blob_name(digest)] if n != blob]
        for name in names:
            with contextlib.suppress(BlobNotFoundError):
                self.store.get_file(name, raw)
                return name
        raise self._not_found(entry, label)

    def cache_from_source(self, digest: Digest) -> bool:
        """Put ``digest``'s plaintext in the local cache from a file on this machine that had
        it (``StatCache.sources``: the file this clone logged, or a download of it), verified:
        the store lost the blob (a teammate's purge removed a blob this clone's unpushed
        version shares), the bytes are still here. ``False`` if no such file still has them."""
        for source in self.stat_cache.sources(digest):
            with self.temp_file() as copy:
                try:
                    shutil.copyfile(source, copy)
                except OSError as exc:
                    if no_room(exc):  # not a lost source: this disk is full
                        raise StorageError(f"cannot write {copy}: {exc.strerror}") from exc
                    continue
                if hash_file(copy)[0] == digest:
                    self.cache.add(copy, digest, move=True)
                    return True
        return False

    def source_has(self, digest: Digest) -> bool:
        """Whether a file on this machine still has ``digest``'s bytes (what
        ``cache_from_source`` would copy), hashed in place: nothing is written."""
        for source in self.stat_cache.sources(digest):
            try:
                if hash_file(Path(source))[0] == digest:
                    return True
            except OSError:
                continue
        return False

    def _not_found(self, entry: ManifestEntry, label: str) -> BlobNotFoundError:
        return BlobNotFoundError(
            f"{label}: blob {str(entry.blob)[:16]}… is not in the store "
            f"{self.store.shown_url} (was it stored from another machine with another storage "
            "setting? after a key rotation, update this checkout's .gittrack/keys)"
        )

    def _decrypt(self, raw: Path, plain: Path, label: str) -> None:
        from gittrack.crypto.age import decrypt_file

        try:
            decrypt_file(raw, plain, self.keys.identities)
        except DecryptionError as exc:
            raise DecryptionError(f"{label}: {exc}") from None

    def _verify_and_cache(self, plain: Path, digest: Digest, label: str) -> None:
        got, _ = hash_file(plain)
        if got != digest:
            raise DecryptionError(
                f"{label} does not match its digest (expected sha256 {digest[:16]}…, got "
                f"{got[:16]}…): the blob in the store is damaged or was tampered with"
            )
        self.cache.add(plain, digest, move=True)

    # -- one API for sync, gc, purge and re-encryption -------------------------------------
    @property
    def url(self) -> str:
        return self.store.url

    def missing(self, blobs: Iterable[BlobName]) -> set[BlobName]:
        """The names in ``blobs`` the store does not hold."""
        return self.store.missing(blobs)

    def has_blob(self, blob: BlobName) -> bool:
        return self.store.exists(blob)

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every blob in the store, in no particular order (temporary uploads excluded)."""
        return self.store.iter_blobs()

    def delete(self, blob: BlobName) -> None:
        """Remove ``blob`` from the store; one that is not there is not an error."""
        self.store.delete(blob)

    def newest_name(self, digest: Digest) -> BlobName:
        """The name the project's newest key gives ``digest``'s encrypted blob
        (``KeyMissingError`` without keys)."""
        return self.keys.blob_name(digest)

    def names_with_newest_key(self, entry: ManifestEntry) -> bool:
        """Whether a plaintext of ``entry`` can be stored under its blob name: a plaintext
        blob, or one the newest key names so."""
        blob, digest = stored(entry)
        if is_plaintext(blob, digest):
            return True
        try:
            return self.newest_name(digest) == blob
        except KeyMissingError:
            return False

    def has_plaintext(self, digest: Digest) -> bool:
        """Whether ``digest``'s plaintext is in the local cache, or was put there now from a
        file on this machine that had it (``cache_from_source``)."""
        return self.cache.has(digest) or self.cache_from_source(digest)

    def is_cached(self, digest: Digest) -> bool:
        return self.cache.has(digest)

    def upload_from_cache(self, entry: ManifestEntry) -> None:
        """Store ``entry``'s blob from the plaintext in the local cache, encrypted again
        under the newest key when its blob is encrypted (``names_with_newest_key``)."""
        blob, digest = stored(entry)
        self.upload_plain(blob, self.cache.path(digest), encrypt=not is_plaintext(blob, digest))

    def copy_from(self, source: BlobStore, blob: BlobName) -> None:
        """Store ``blob`` as another store (``source``) holds it: already in its final form."""
        with self.temp_file() as raw:
            source.get_file(blob, raw)
            self.store.put_file(blob, raw)

    def rewrap(self, entry: ManifestEntry, names: set[BlobName],
               new_keys: ProjectKeys) -> tuple[Rewrap, int]:
        """``entry``'s blob encrypted to ``new_keys`` under the name they give it, then the
        copies under its other ``names`` deleted; returns what was done and how many copies
        were deleted. Idempotent: a blob already under the new name is only cleaned up."""
        _, digest = stored(entry)
        target = new_keys.blob_name(digest)
        old = sorted(names - {target})
        status: Rewrap = "current"
        if not self.has_blob(target):
            present = [n for n in old if self.has_blob(n)]
            if not present and not self.is_cached(digest):
                return "missing", 0
            source = dataclasses.replace(entry, blob=present[0] if present else old[0])
            plain = self.cached(source, what="re-encryption")  # verified plaintext
            self.upload_plain(target, plain, encrypt=True, keys=new_keys)
            status = "rewritten"
        deleted = 0
        for name in old:  # only now: the new copy is in place
            if self.has_blob(name):
                self.delete(name)
                deleted += 1
        return status, deleted

    def temps(self) -> Iterator[tuple[str, float | None]]:
        """Uploads that died half-way (temporary names beside their blob): each one's path in
        the store and when it was last written (``None``: unknown)."""
        from gittrack.blobs.backends import modified

        try:
            found = self.store.fs.find(self.store.root, detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            if _TEMP_MARK in path.rpartition("/")[2]:
                yield path, modified(info)

    def delete_temp(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.store.fs.rm_file(path)

    def cache_entries(self) -> Iterator[tuple[Path, Digest]]:
        """Every plaintext in the local cache: its path and its digest (a file not named by a
        digest is not one the cache put there: left alone)."""
        root = self.cache.root
        if not root.is_dir():
            return
        for shard in root.iterdir():
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            for path in shard.iterdir():
                name = shard.name + path.name
                if is_digest(name):
                    yield path, name

    def uncache(self, digest: Digest) -> None:
        self.cache.remove(digest)

    def source_digests(self) -> set[Digest] | None:
        """The digests the stat cache knows files on this machine for (``None``: none)."""
        return self.stat_cache.digests()

    def forget_sources(self, digests: Iterable[Digest]) -> None:
        """Forget which files here had ``digests``: they are the user's folder names, not to
        be kept once nothing names those digests (``docs/security.md``)."""
        self.stat_cache.forget_digests(digests)

    # -- temporary files ----------------------------------------------------------------------
    @contextlib.contextmanager
    def temp_file(self) -> Iterator[Path]:
        """A fresh path under ``.git/gittrack/tmp`` (beside the cache: renames work), not yet
        created, and removed on the way out unless it was moved."""
        if not self._temp_ready:
            try:
                self.temp_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RepositoryError(
                    f"cannot create the folder {self.temp_dir}: {exc.strerror or exc}"
                ) from None
            self._temp_ready = True
        path = unique_name(self.temp_dir, "blob")
        try:
            yield path
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

def _uploads(files: list[tuple[str, str | Path]], hashed: list[_Digest],
             entries: list[ManifestEntry], missing: set[BlobName]) -> dict[BlobName, _Hashed]:
    """What to upload, by blob: one file per missing blob, however many files share it."""
    uploads: dict[BlobName, _Hashed] = {}
    for (name, source), (digest, size, st), entry in zip(files, hashed, entries, strict=True):
        if entry.blob in missing and entry.blob not in uploads:
            uploads[entry.blob] = _Hashed(name, Path(source), digest, size, st)
    return uploads


def _stat(path: str | Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _same_file(a: os.stat_result, b: os.stat_result | None) -> bool:
    return b is not None and (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino) == (
        b.st_size, b.st_mtime_ns, b.st_ctime_ns, b.st_ino)


def _source_stat(name: str, source: str | Path, what: str) -> os.stat_result:
    try:
        return os.stat(source)
    except OSError as exc:  # the message error_context would give, without its cost per file
        raise UsageError(f"{what}, file {name}: cannot read {source}: {exc.strerror or exc}") \
            from None
