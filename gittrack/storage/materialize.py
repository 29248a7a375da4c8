"""Writing a file into place: streamed to a temporary name beside it, verified, then renamed.

A reader (or a crash) never sees a partial or unverified file under the final name, and a
download never writes outside its root (``DownloadRoot``).
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gittrack import atomic
from gittrack.errors import DecryptionError, StorageError, UsageError
from gittrack.storage.entry import check_entry_path
from gittrack.types import Digest

CHUNK = 1 << 20


class DownloadRoot:
    """The folder a download writes into, and the path of each file in it.

    A manifest's paths are relative and never go up (``check_entry_path``), but a folder
    already in the root may be a symbolic link: ``root/data -> /etc`` would make ``data/x``
    land outside. Each folder a file goes into is resolved (once) and must stay under the
    resolved root; a link that stays inside is followed.

    ``within``: the folder the root itself must stay in, for a root gittrack chose (the
    default ``./artifacts/NAME-vN``): a committed ``artifacts/NAME-vN -> /elsewhere`` link
    would otherwise take the whole download out. ``within`` itself is resolved, so an
    ``artifacts`` folder that is a link (to a data disk) is where the user put it. A root the
    user named is theirs to point anywhere.
    """

    def __init__(self, root: Path, *, within: Path | None = None) -> None:
        self.root = root
        self._within = within
        self._real_root: Path | None = None
        self._checked: set[Path] = set()

    def path(self, name: str) -> Path:
        """``root/name``, or ``UsageError`` when a folder on the way leads out of the root."""
        target = self.root / check_entry_path(name, what="file name")
        folder = target.parent
        if folder not in self._checked:
            self._check(folder)
            self._checked.add(folder)
        return target

    def _check(self, folder: Path) -> None:
        if self._real_root is None:
            self._real_root = self.root.resolve()
            if self._within is not None:
                within = self._within.resolve()
                if within not in self._real_root.parents:
                    raise UsageError(
                        f"{self.root} leads out of {self._within} (to {self._real_root}, "
                        "through a symbolic link): remove the link, or download elsewhere; "
                        "nothing written")
        real = folder.resolve()
        if real != self._real_root and self._real_root not in real.parents:
            raise UsageError(f"{folder} leads out of {self.root} (to {real}, through a symbolic "
                             "link): remove the link, or download elsewhere; nothing written")


def unique_name(folder: Path, stem: str) -> Path:
    """A name nobody else will pick in ``folder``; the file is not created (creating files is
    the slowest step of fetching many small ones, so each is created once, by its writer)."""
    return folder / f".{stem[:40]}.{uuid.uuid4().hex}.tmp"


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """An ``OSError`` of the writes in the block as a ``StorageError`` naming ``path`` and the
    reason ("cannot write out/model.pt: No space left on device"): a download that cannot put
    its bytes down (full disk, quota, read-only folder) fails like any other transfer, exit 8,
    the file named (the temporary one beside it is removed by ``replacing``)."""
    try:
        yield
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"cannot create the folder {folder}: a file is in the way") from None
    except OSError as exc:  # full disk, read-only folder
        raise StorageError(f"cannot create the folder {folder}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def replacing(dst: Path) -> Iterator[Path]:
    """A temporary path beside ``dst`` (its folder made first) that becomes ``dst`` when the
    block ends without an error, and is removed otherwise: how this package puts every file in
    place (``gittrack.atomic.replacing`` with a name no other writer picks)."""
    _make_folder(dst.parent)
    with atomic.replacing(dst, unique_name(dst.parent, dst.name)) as temp:
        yield temp


def copy_stream(src: BinaryIO, out: BinaryIO) -> tuple[Digest, int]:
    """Copy in chunks (flat memory) and return the sha256 hex and size of what was copied."""
    digest = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return Digest(digest.hexdigest()), size


def write_verified(src: BinaryIO, dst: Path, digest: Digest, *, what: str) -> None:
    """Stream ``src`` to ``dst`` only if its sha256 is ``digest``; else ``DecryptionError``."""
    with writing(dst), replacing(dst) as temp:
        with temp.open("xb") as out:
            got, _ = copy_stream(src, out)
        if got != digest:
            raise DecryptionError(
                f"{what} does not match its digest (expected sha256 {digest[:16]}…, got "
                f"{got[:16]}…): the stored copy is damaged or was tampered with; nothing written"
            )
