"""``LocalCache``: plaintext blobs on this machine, ``<root>/ab/cdef...``, by sha256 digest.

Entries appear atomically (a hard link, or a copy to a temporary name then ``os.replace``), so
a reader never sees a partial file. Entries are never modified: replacing is the only write.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from gittrack.atomic import copy_atomic
from gittrack.blobs import names
from gittrack.errors import StorageError
from gittrack.types import Digest

# os.link fails with these when a link is impossible rather than wrong: another filesystem,
# a filesystem without hard links, or too many links to one inode.
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


class LocalCache:
    """Plaintext copies of blobs, so a second ``download`` needs no transfer and no decryption.

    >>> cache = LocalCache(Path(".git/gittrack/cache/blobs"))  # doctest: +SKIP
    >>> cache.add(Path("model.pt"), digest)  # doctest: +SKIP
    PosixPath('.git/gittrack/cache/blobs/9f/86d0...')
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: Digest) -> Path:
        head, tail = names.shard(digest)
        return self.root / head / tail

    def has(self, digest: Digest) -> bool:
        return self.path(digest).is_file()

    def add(self, src: Path, digest: Digest, *, move: bool = False) -> Path:
        """Put ``src`` (whose sha256 is ``digest``) in the cache and return the entry's path.

        Hard links ``src`` when it is on the same filesystem, copies otherwise; ``move=True``
        renames ``src`` in (for a download's temporary file; ``src`` is gone afterwards). An
        entry already present is kept: same digest, same bytes.
        """
        dst = self.path(digest)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.is_file():
                if move:
                    src.unlink()
            elif move:
                _move(src, dst)
            else:
                _link_or_copy(src, dst)
        except OSError as exc:
            raise StorageError(f"cannot add {src} to the local cache as {dst}: "
                               f"{exc.strerror or exc}") from exc
        return dst

    def remove(self, digest: Digest) -> None:
        try:
            self.path(digest).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot remove {digest} from the local cache: {exc}") from exc


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)  # atomic by itself: the name appears with all the bytes
    except FileExistsError:
        pass  # another thread or process cached the same digest first
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        _copy(src, dst)


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _copy(src, dst)
        src.unlink()


def _copy(src: Path, dst: Path) -> None:
    copy_atomic(src, dst, Path(names.temp_name(str(dst))))
