"""``gittrack.Artifact``: the files of a dataset or model, collected before they are logged.

An ``Artifact`` is only a plan: nothing is hashed or uploaded until ``run.log_artifact(art)``.
``add_*`` checks what it can at once (the file exists, the names are valid and unique), so a
mistake is reported at the line that made it, and a refused call leaves the artifact as it was.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from gittrack.artifacts.manifest import NameSet, check_entry_path
from gittrack.errors import UsageError
from gittrack.formats.values import text_problem, to_plain
from gittrack.git.codestate import is_valid_ref_component

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


def check_artifact_name(name: object) -> str:
    if not isinstance(name, str) or not is_valid_ref_component(name):
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
        if not isinstance(type, str) or not type.strip() or len(type) > _MAX_TYPE \
                or any(c in type for c in "\r\n\0"):
            raise UsageError(f"artifact type must be a short one-line string, got {type!r}")
        if description is not None and not isinstance(description, str):
            raise UsageError(f"description must be a string, got {description!r}")
        for what, text in (("type", type), ("description", description or "")):
            if (problem := text_problem(text)) is not None:
                raise UsageError(f"artifact {what} {text!r} {problem}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise UsageError(f"metadata must be a dict, got {metadata!r}")
        self.type = type
        self.description = description
        self.metadata: dict[str, Any] = to_plain(dict(metadata or {}), where="metadata")
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
        self._add([PlannedFile(check_entry_path(prefix + relative, what="name"), source)
                   for relative, source in sorted(_walk(root))])

    def add_reference(self, uri: str | os.PathLike[str], name: str | None = None) -> None:
        """Record an external object (a local path, ``file://`` or any fsspec URL) by checksum.

        The bytes are not copied to the store: the manifest keeps the URI with a sha256 (local
        files) or the store's checksum or ETag and size, taken when the artifact is logged. A
        folder or prefix records every object under it.
        """
        text = os.fspath(uri)
        if not isinstance(text, str) or not text:
            raise UsageError(f"reference must be a path or URL, got {uri!r}")
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


def _walk(root: Path) -> Iterator[tuple[str, str]]:
    """``(name relative to root, path)`` of the regular files under ``root``. Symlinks to files
    count; symlinked folders are not entered (a loop of links would never end); a folder that
    cannot be listed is skipped, as ``os.walk`` does. The directory entry says what each entry
    is, so a regular file costs no stat here (``log_artifact`` stats each file once)."""
    folders = [("", os.fspath(root))]
    while folders:
        relative, folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append((f"{relative}{entry.name}/", entry.path))
            elif _is_file(entry):
                yield relative + entry.name, entry.path


def _is_file(entry: os.DirEntry[str]) -> bool:
    """``Path.is_file``: a symlink counts by its target; a broken one or a loop is not a file."""
    try:
        return entry.is_file()
    except OSError as exc:
        if exc.errno in _NOT_A_FILE:
            return False
        raise UsageError(f"cannot read {entry.path}: {exc.strerror or exc}") from None
