"""``gittrack.Artifact``: the files of a dataset or model, collected before they are logged.

An ``Artifact`` is only a plan: nothing is hashed or uploaded until ``run.log_artifact(art)``.
``add_*`` checks what it can at once (the file exists, the names are valid and unique), so a
mistake is reported at the line that made it, and a refused call leaves the artifact as it was.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeGuard

from gittrack.artifacts.manifest import NameSet
from gittrack.errors import GittrackWarning, UsageError
from gittrack.formats.values import check_document, check_field, entry_bytes, readable, to_plain
from gittrack.git.namespace import is_valid_ref_component
from gittrack.storage.entry import check_entry_path, is_utf8
from gittrack.urls import has_credentials, strip_credentials

_MAX_TYPE = 128
_NOT_A_FILE = {errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP}


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedFile:
    """A local file to hash and store under ``name``.

    ``source`` is its path as a string: ``add_dir`` makes one per file, and a ``Path`` costs
    more to make and to use than anything else done with an unchanged file.
    """

    name: str
    source: str


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedReference:
    """An external object (or folder of objects) to record by URI and checksum under ``name``."""

    name: str
    uri: str


Planned = PlannedFile | PlannedReference


def is_valid_type(kind: object) -> bool:
    """An artifact type: a short one-line string (also checked on versions read from git)."""
    return isinstance(kind, str) and bool(kind.strip()) and len(kind) <= _MAX_TYPE \
        and not any(c in kind for c in "\r\n\0") and is_utf8(kind)


def is_valid_artifact_name(name: object) -> TypeGuard[str]:
    """The one rule for artifact names: what ``Artifact(name)`` accepts and what readers of
    refs enforce (a ref a remote forged, ``artifacts/nested/x``, is not an artifact)."""
    return isinstance(name, str) and is_valid_ref_component(name)


def check_artifact_name(name: object) -> str:
    if not is_valid_artifact_name(name):
        raise UsageError(
            f"artifact name {name!r} is not valid: use letters, digits, '.', '_' and '-' "
            "(no '/', ':' or '..'), starting with a letter or digit, at most 128 characters"
        )
    return name


class Artifact:
    """A new version of a dataset, model or any set of files, to log with a run.

    >>> art = gittrack.Artifact("mnist", type="dataset")            # doctest: +SKIP
    >>> art.add_dir("data/mnist")                                   # doctest: +SKIP
    >>> version = run.log_artifact(art, aliases=["best"])           # doctest: +SKIP
    """

    def __init__(self, name: str, type: str, description: str | None = None,
                 metadata: Mapping[str, Any] | None = None) -> None:
        self.name = check_artifact_name(name)
        if not is_valid_type(type):
            raise UsageError(f"artifact type must be a short one-line string, got {type!r}")
        if description is not None and not (isinstance(description, str)
                                            and is_utf8(description)):
            raise UsageError(f"description must be a UTF-8 string, got {description!r}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise UsageError(f"metadata must be a dict, got {metadata!r}")
        self.type = type
        # artifact.yaml must stay loadable (docs/format.md, "Bounds"): refused here, at the
        # user's call, and again, whole, before the version is written (versions._write)
        self.description = description if description is None else check_field(
            "description", description)
        self.metadata: dict[str, Any] = to_plain(dict(metadata or {}), where="metadata")
        check_document({k: entry_bytes(k, v) for k, v in self.metadata.items()},
                       what="the metadata in artifact.yaml")
        self._planned: dict[str, Planned] = {}
        self._names = NameSet()

    def add_file(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        """Add one local file, stored as ``name`` (default: its file name)."""
        source = Path(os.fspath(path))
        if source.is_dir():
            raise UsageError(f"{source} is a directory: use add_dir() for a folder")
        if not source.is_file():
            raise UsageError(f"{source} does not exist or is not a regular file")
        self._add([PlannedFile(self._name(name, source.name), os.fspath(source))])

    def add_dir(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        """Add every file under a local folder, under ``name/`` (default: the top level)."""
        root = Path(os.fspath(path))
        if not root.is_dir():
            raise UsageError(f"{root} is not a directory")
        prefix = "" if name is None else check_entry_path(name, what="name") + "/"
        skipped: list[str] = []
        found = sorted(_walk(root, skipped))
        self._add([PlannedFile(check_entry_path(prefix + relative, what="name"), source)
                   for relative, source in found])
        if skipped:  # after _add: a refused call warns about nothing
            warnings.warn(_skipped_message(root, skipped), GittrackWarning, stacklevel=2)

    def add_reference(self, uri: str | os.PathLike[str], name: str | None = None) -> None:
        """Record an external object (a local path, ``file://`` or any fsspec URL) by checksum.

        The bytes are not copied to the store: the manifest keeps the URI with a sha256 (local
        files) or the store's checksum or ETag and size, taken when the artifact is logged. A
        folder or prefix records every object under it.

        A URL carrying credentials (``user:password@``, a token, a presigned S3/GCS URL's
        signature, an Azure SAS ``sig``) is refused: the manifest is pushed unencrypted.
        """
        text = os.fspath(uri)
        if not isinstance(text, str) or not text:
            raise UsageError(f"reference must be a path or URL, got {uri!r}")
        if not is_utf8(text):  # its URI is stored as text, and read back to find the bytes
            raise UsageError(
                f"reference '{readable(text)}' is not valid UTF-8 (a path from a file system in "
                "another encoding): a reference is kept as text in manifest.parquet; rename "
                "it, or copy the bytes with add_file()/add_dir() and a name=")
        if "://" in text and has_credentials(text):
            raise UsageError(
                f"reference {strip_credentials(text)} is given with credentials (user info, a "
                "token or a signature) that would be pushed unencrypted in manifest.parquet: "
                "give the URL without them, with credentials from the environment or the "
                "storage options (docs/artifacts.md, 'References')")
        if "://" not in text:
            local = Path(text)
            if not local.exists():
                raise UsageError(f"reference {text} does not exist")
            text = local.resolve().as_uri()
        default = text.rstrip("/").rsplit("/", 1)[-1]
        self._add([PlannedReference(self._name(name, default), text)])

    def _name(self, name: str | None, default: str) -> str:
        return check_entry_path(default if name is None else name, what="name")

    def _add(self, planned: Sequence[Planned]) -> None:
        """All or nothing: a duplicate anywhere refuses the whole call."""
        # A reference may be a folder, known only when logged: its files are checked then
        # (publish._check_unique); files are checked now, all at once (set operations).
        names = [p.name for p in planned]
        files = NameSet.of([p.name for p in planned if isinstance(p, PlannedFile)])
        if files is None or self._names.overlaps(files) \
                or not self._planned.keys().isdisjoint(names):
            self._refuse(planned)
        self._names.update(files)
        self._planned.update(zip(names, planned, strict=True))

    def _refuse(self, planned: Sequence[Planned]) -> NoReturn:
        """The first clash in ``planned``, name by name, as an error."""
        batch = NameSet()
        for item in planned:
            clash = f"two files named {item.name!r}" if item.name in self._planned else None
            if isinstance(item, PlannedFile):
                clash = clash or self._names.clash(item.name) or batch.clash(item.name)
            if clash:
                raise UsageError(
                    f"artifact {self.name} would have {clash}; give another name= to add it"
                )
            if isinstance(item, PlannedFile):
                batch.add(item.name)
        raise AssertionError("NameSet.of/overlaps found a clash that clash() does not")

    @property
    def planned(self) -> list[Planned]:
        """What will be logged, by name."""
        return [self._planned[name] for name in sorted(self._planned)]

    def __len__(self) -> int:
        return len(self._planned)

    def __repr__(self) -> str:
        return f"<gittrack.Artifact {self.name!r} type={self.type!r} files={len(self)}>"


_Key = tuple[int, int]  # (st_dev, st_ino): a folder, however it was reached


def _walk(root: Path, skipped: list[str]) -> Iterator[tuple[str, str]]:
    """``(name relative to root, path)`` of the files under ``root``, following symbolic links
    to files and folders (a link is stored under its own name, as W&B's ``add_dir`` does).

    What cannot be stored is added to ``skipped`` (``"name (why)"``): a broken link, a loop
    (a folder reached again below itself, which would never end), a FIFO, socket or device
    (reading a FIFO would block forever). A folder that cannot be listed is an error. The
    directory entry says what each entry is, so a regular file costs no stat here
    (``log_artifact`` stats each file once); each folder costs one.
    """
    folders = [("", os.fspath(root), frozenset({_key(os.stat(root))}))]
    while folders:
        relative, folder, above = folders.pop()
        for entry in _list(folder):
            name = relative + entry.name
            kind, st = _kind(entry)
            if kind == "file":
                yield name, entry.path
            elif kind != "folder" or st is None:
                skipped.append(f"{name} ({kind})")
            elif _key(st) in above:
                skipped.append(f"{name} (a loop back to a folder above it)")
            else:
                folders.append((f"{name}/", entry.path, above | {_key(st)}))


def _list(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as listing:
            return list(listing)
    except OSError as exc:
        raise UsageError(f"cannot list the folder {folder}: {exc.strerror or exc}; the "
                         "artifact would be incomplete") from None


def _kind(entry: os.DirEntry[str]) -> tuple[str, os.stat_result | None]:
    """``("file" | "folder" | why it cannot be stored, the folder's stat)``."""
    try:
        if entry.is_file():  # a link counts by its target
            return "file", None
        st = entry.stat()  # follows a link: a folder's identity, for loops
    except OSError as exc:
        if exc.errno in _NOT_A_FILE:
            return "a broken symbolic link", None
        raise UsageError(f"cannot read {entry.path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        return "folder", st
    return _SPECIAL.get(stat.S_IFMT(st.st_mode), "not a regular file"), None


_SPECIAL = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
            stat.S_IFBLK: "a device"}


def _key(st: os.stat_result) -> _Key:
    return st.st_dev, st.st_ino


def _skipped_message(root: Path, skipped: list[str]) -> str:
    shown = "; ".join(sorted(skipped)[:10]) + ("; ..." if len(skipped) > 10 else "")
    count = f"{len(skipped)} entries" if len(skipped) > 1 else "1 entry"
    return (f"gittrack: add_dir({os.fspath(root)!r}) left out {count} that cannot be "
            f"stored: {shown} (docs/artifacts.md, 'Folders and links')")
