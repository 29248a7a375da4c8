"""``BlobStore``: objects named by a hex string, sharded ``<root>/ab/cdef...``, over any fsspec URL.

The store moves opaque bytes: the caller picks the names (a sha256 digest, or its keyed HMAC
for a private project) and encrypts before ``put_file``. Guarantees, on every backend:

- a reader never sees a partial blob: object stores commit an upload in one request (a single
  PUT, or a multipart upload that appears only when completed); every other filesystem gets a
  temporary name in the blob's own folder, then a rename;
- a download lands in a temporary file next to its target, then ``os.replace``;
- transfers stream in flat memory whatever the blob's size (on S3, parts are read from the
  file as they are sent, and a download is one GET stream: ``backends``, ``multipart``);
- every failure is a ``StorageError`` naming the store's URL (``BlobNotFoundError`` for a
  missing blob), never a raw ``OSError`` or botocore traceback.

With a ``PresenceCache``, the store remembers which blobs it wrote or found, so that
``missing(..., trust_seen=True)`` can answer for unchanged files without asking the backend.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import random
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import fsspec

from gittrack.atomic import replacing
from gittrack.blobs import backends, names
from gittrack.blobs.presence import PresenceCache, store_key
from gittrack.blobs.progress import Progress, ProgressFn
from gittrack.errors import BlobNotFoundError, GittrackError, StorageError, UsageError
from gittrack.types import BlobName
from gittrack.urls import strip_credentials, strip_credentials_in

T = TypeVar("T")
R = TypeVar("R")

# Up to this many names, ``missing`` asks about each one (in parallel); above it, one listing
# of the store is cheaper.
_EXISTS_LIMIT = 32
_THREADS = 16
_STREAM_BLOCK = 8 << 20
# Names the presence cache vouches for are believed once this many of them, picked at random,
# are confirmed in the store: one parallel round trip.
_SPOT_CHECKS = 4
_RNG = random.Random()  # private: a script's random.seed() must not fix the sample


@dataclass(frozen=True, slots=True)
class BlobInfo:
    name: BlobName
    size: int
    modified: float | None
    """Seconds since the epoch, when the backend reports it."""


class BlobStore:
    """A content-addressed folder of blobs on any fsspec filesystem.

    >>> store = BlobStore.from_url("s3://bucket/gittrack", {"profile": "ml"})  # doctest: +SKIP
    >>> store.missing([digest]) and store.put_file(digest, Path("model.pt.age"))  # doctest: +SKIP
    >>> store.get_file(digest, Path("/tmp/model.pt.age"))  # doctest: +SKIP
    """

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, url: str | None = None, *,
                 presence: PresenceCache | None = None) -> None:
        self._fs = fs
        self._root = root.rstrip("/")
        self._url = url or fs.unstrip_protocol(self._root)
        self._atomic_put = backends.puts_atomically(fs)
        self._presence = presence

    @classmethod
    def from_url(cls, url: str, options: Mapping[str, Any] | None = None, *,
                 presence: Path | None = None) -> BlobStore:
        """Open the store at ``url``: a plain path (a local folder) or any fsspec URL.

        ``options`` are fsspec storage options (``endpoint_url``, ``profile``, ``key``...);
        ``presence``: the sqlite file of a ``PresenceCache`` to keep.
        """
        fs, root = backends.open_url(url, options)
        seen = None
        if presence is not None:
            seen = PresenceCache(presence, store_key(fs.unstrip_protocol(root), options))
        return cls(fs, root, url, presence=seen)

    @property
    def url(self) -> str:
        return self._url

    @property
    def shown_url(self) -> str:
        """The URL fit for a message: without credentials (``gittrack.urls``)."""
        return strip_credentials(self._url)

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        return self._fs

    @property
    def root(self) -> str:
        return self._root

    def path(self, name: BlobName) -> str:
        """Where blob ``name`` lives on the filesystem: ``<root>/ab/cdef...``."""
        head, tail = names.shard(name)
        return f"{self._root}/{head}/{tail}"

    def exists(self, name: BlobName) -> bool:
        path = self.path(name)
        with self._errors(f"cannot check blob {name}"):
            try:
                info = self._fs.info(path)
            except FileNotFoundError:
                return False
        return bool(info.get("type") != "directory")

    def missing(self, names_: Iterable[BlobName], *,
                trust_seen: bool = False) -> set[BlobName]:
        """The subset of ``names_`` not in the store: "which of these must I upload?".

        ``trust_seen``: names the presence cache saw in the store lately count as present
        without asking, once a few of them, picked at random, are found there (see
        ``gittrack/blobs/presence.py``). Without it the store is asked about every name.
        """
        wanted = sorted({names.check_name(n) for n in names_})
        seen = self._seen(wanted) if trust_seen else set()
        unsure = [name for name in wanted if name not in seen]
        absent = self._absent(unsure)
        if self._presence is not None:
            self._presence.forget(absent)
            self._presence.add(name for name in unsure if name not in absent)
            self._presence.flush()
        return absent

    def put_file(self, name: BlobName, local_path: Path, *,
                 progress: ProgressFn | None = None) -> None:
        """Upload ``local_path`` as blob ``name``; readers see all of it or nothing.

        Putting a name again replaces it with the same bytes (names are content addresses).
        ``progress(n)`` is called as bytes go out; its arguments add up to the file's size.
        """
        target = self.path(name)
        size = _source_size(local_path)
        callback = Progress(progress)
        with self._errors(f"cannot write blob {name}"):
            if self._atomic_put:
                backends.put_object(self._fs, local_path, target, size, callback)
            else:
                self._put_via_temp(local_path, target, callback)
        if self._presence is not None:
            self._presence.add([name])  # written in batches: see flush()
        callback.finish(size)

    def get_file(self, name: BlobName, local_path: Path, *,
                 progress: ProgressFn | None = None) -> None:
        """Download blob ``name`` to ``local_path``, which appears only once complete.

        ``progress(n)`` is called as bytes arrive; its arguments add up to the blob's size.
        """
        local_path = Path(local_path)
        if not local_path.parent.is_dir():
            raise UsageError(f"cannot download blob {name} to {local_path}: no such folder")
        temp = Path(names.temp_name(str(local_path)))
        try:
            callback = Progress(progress)
            with replacing(local_path, temp), self._errors(f"cannot read blob {name}"):
                try:
                    self._get(name, temp, callback)
                except OSError as exc:
                    if backends.no_room(exc):  # the local disk, not the store, failed
                        raise StorageError(f"cannot write {local_path}: "
                                           f"{backends.reason(exc)}") from exc
                    raise
            callback.finish(local_path.stat().st_size)
        except OSError as exc:
            raise UsageError(f"cannot write {local_path}: {exc.strerror or exc}") from exc

    def open(self, name: BlobName) -> BinaryIO:
        """A binary file object reading blob ``name`` (streamed; close it when done)."""
        with self._errors(f"cannot read blob {name}"):
            try:
                return cast(
                    BinaryIO, self._fs.open(self.path(name), "rb", block_size=_STREAM_BLOCK)
                )
            except FileNotFoundError:
                raise self._not_found(name) from None

    def delete(self, name: BlobName) -> None:
        """Remove blob ``name``; removing a blob that is not there is not an error."""
        if self._presence is not None and not self._presence.forget([names.check_name(name)]):
            raise StorageError(
                f"cannot delete blob {name} at {self.shown_url}: the presence cache "
                f"{self._presence.path} cannot be updated (remove that file, then try again)"
            )
        with self._errors(f"cannot delete blob {name}"), contextlib.suppress(FileNotFoundError):
            self._fs.rm_file(self.path(name))

    def flush(self) -> None:
        """Write the names uploaded since the last flush to the presence cache (if any)."""
        if self._presence is not None:
            self._presence.flush()

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every blob in the store, in no particular order (temporary uploads excluded)."""
        for path, info in self._find(detail=True).items():
            name = self._name_of(path)
            if name is not None:
                yield BlobInfo(name, int(info.get("size") or 0), backends.modified(info))

    def __repr__(self) -> str:
        return f"BlobStore({self.shown_url!r})"

    # -- internals ---------------------------------------------------------------------------

    def _absent(self, wanted: list[BlobName]) -> set[BlobName]:
        if len(wanted) <= _EXISTS_LIMIT:
            found = _parallel(self.exists, wanted)
            return {name for name, ok in zip(wanted, found, strict=True) if not ok}
        present = {self._name_of(path) for path in self._find(detail=False)}
        return set(wanted) - present

    def _seen(self, wanted: list[BlobName]) -> set[BlobName]:
        """What the presence cache vouches for, if a random sample of it is in the store."""
        if self._presence is None:
            return set()
        seen = self._presence.known(wanted)
        sample = _RNG.sample(list(seen), min(_SPOT_CHECKS, len(seen)))
        if all(_parallel(self.exists, sample)):
            return seen
        self._presence.forget_all()  # emptied or replaced behind our back: trust none of it
        return set()

    def _get(self, name: BlobName, temp: Path, callback: Progress) -> None:
        options = backends.get_options(self._fs)
        try:
            self._fs.get_file(self.path(name), str(temp), callback=callback, **options)
        except FileNotFoundError:
            # The destination folder exists (checked), so this is the blob, or its bucket.
            if not self.exists(name):
                raise self._not_found(name) from None
            raise

    def _put_via_temp(self, local_path: Path, target: str, callback: Progress) -> None:
        self._fs.makedirs(posixpath.dirname(target), exist_ok=True)
        temp = names.temp_name(target)
        try:
            self._fs.put_file(str(local_path), temp, callback=callback)
            self._fs.mv(temp, target)
        except BaseException:
            # Best effort: the temp may not exist, and cleanup must not hide the real error.
            with contextlib.suppress(Exception):
                self._fs.rm_file(temp)
            raise

    def _find(self, *, detail: bool) -> Any:
        # One recursive listing: on object stores, 1,000 keys per request, whatever the
        # number of names asked about (256 shard listings cost more below ~250,000 blobs).
        with self._errors("cannot list blobs"):
            try:
                return self._fs.find(self._root, detail=detail)
            except FileNotFoundError:
                return {} if detail else []

    def _name_of(self, path: str) -> BlobName | None:
        prefix = f"{self._root}/"
        if not path.startswith(prefix):
            return None
        head, _, tail = path[len(prefix) :].partition("/")
        name = head + tail
        if len(head) != 2 or "/" in tail or not names.is_name(name):
            return None
        return name

    def _not_found(self, name: BlobName) -> BlobNotFoundError:
        return BlobNotFoundError(f"blob {name} is not in the store {self.shown_url}")

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except GittrackError:
            raise
        except backends.errors() as exc:
            raise StorageError(strip_credentials_in(
                f"{what} at {self._url}: {backends.reason(exc)}")) from exc


def _source_size(path: Path) -> int:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UsageError(f"cannot upload {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"cannot upload {path}: not a regular file")
    return st.st_size


def _parallel(fn: Callable[[T], R], items: list[T]) -> list[R]:
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(_THREADS, len(items))) as pool:
        return list(pool.map(fn, items))
