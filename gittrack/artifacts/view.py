"""``ArtifactVersion``: one stored version, read from git, with its files fetched on demand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.artifacts import aliases as alias_refs
from gittrack.artifacts import versions
from gittrack.artifacts.artifact import check_artifact_name
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.errors import NotFoundError
from gittrack.git.repo import Repository
from gittrack.storage.materialize import DownloadRoot
from gittrack.types import CommitId

if TYPE_CHECKING:
    from gittrack.storage.vault import BlobVault


class ArtifactVersion:
    """A version of an artifact (``name:vN``), as ``use_artifact`` and ``Api.artifact`` give it.

    >>> data = run.use_artifact("mnist:latest")                      # doctest: +SKIP
    >>> root = data.download()            # ./artifacts/mnist-v3     # doctest: +SKIP
    >>> weights = model.path("model.pt")                             # doctest: +SKIP
    """

    def __init__(self, repo: Repository, info: versions.VersionInfo,
                 storage: BlobVault | None = None) -> None:
        self._repo = repo
        self._info = info
        self._storage = storage
        self._entries: list[ManifestEntry] | None = None
        self._found: dict[str, ManifestEntry] = {}  # files looked up one by one (``file``)

    @classmethod
    def resolve(cls, repo: Repository, spec: str) -> ArtifactVersion:
        """The version ``spec`` names (``name``, ``name:latest``, ``name:v3``, ``name:alias``)."""
        name, _ = alias_refs.parse_spec(spec)
        return cls(repo, versions.read_info(repo, alias_refs.resolve(repo, spec), name))

    # -- what artifact.yaml says -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._info.name

    @property
    def version(self) -> int:
        return self._info.version

    @property
    def spec(self) -> str:
        """``name:vN``: stable, unlike an alias."""
        return self._info.spec

    @property
    def commit(self) -> CommitId:
        return self._info.commit

    @property
    def type(self) -> str:
        return self._info.type

    @property
    def description(self) -> str | None:
        return self._info.description

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._info.metadata)

    @property
    def producer(self) -> str | None:
        """The id of the run that logged this version (``None`` if none did)."""
        return self._info.producer

    @property
    def replaces(self) -> tuple[str, ...]:
        """The commits this version was copied from when a pull renumbered it (put it on top
        of a teammate's versions), oldest first; empty for most versions."""
        return self._info.replaces

    @property
    def created_at(self) -> str:
        return self._info.created_at

    @property
    def size(self) -> int:
        """Total bytes of its files."""
        return self._info.size

    @property
    def aliases(self) -> list[str]:
        """The aliases naming this version now (``latest`` first, if it is the head)."""
        return alias_refs.aliases_of(self._repo, self.name, self.commit)

    # -- files -------------------------------------------------------------------------------
    def files(self) -> list[ManifestEntry]:
        """The manifest: one row per file (path, digest, size, blob, ref), sorted by path."""
        if self._entries is None:
            self._entries = versions.read_entries(self._repo, self.commit, self.name)
        return list(self._entries)

    def default_root(self) -> Path:
        """``./artifacts/<name>-vN``: one folder, as the name is one valid path component."""
        check_artifact_name(self.name)  # read_info checked it; a VersionInfo made by hand not
        return Path.cwd() / "artifacts" / f"{self.name}-v{self.version}"

    def download(self, root: str | os.PathLike[str] | None = None) -> Path:
        """Materialise every file under ``root`` (default ``./artifacts/<name>-vN``).

        Each file is verified against its sha256 and appears whole or not at all; the local
        cache serves files fetched before. Other files already in ``root`` are left alone.
        """
        target = self._target(root)
        pairs = [(entry, target.path(entry.path)) for entry in self.files()]  # all checked first
        self._storage_().fetch_many(pairs, what=f"artifact {self.spec}")
        return target.root

    def file_count(self) -> int:
        """How many files it has, from the manifest's footer: nothing decoded."""
        if self._entries is not None:
            return len(self._entries)
        return versions.count_entries(self._repo, self.commit, self.name)

    def first_files(self, count: int) -> list[ManifestEntry]:
        """The first ``count`` rows of the manifest, by path: a glance at a large version
        without reading all of it."""
        if self._entries is not None:
            return self._entries[:max(count, 0)]
        return versions.first_entries(self._repo, self.commit, self.name, count)

    def file(self, name: str) -> ManifestEntry:
        """The manifest row of file ``name``: of a large version, only the part of the
        manifest that can hold it is read. ``NotFoundError`` listing some files otherwise."""
        found = self._found.get(name) or self._lookup(name)
        if found is None:
            shown = self.first_files(10)
            more = self.file_count() - len(shown)
            names = ", ".join(e.path for e in shown) + (f", ... ({more:,} more)" if more > 0
                                                        else "")
            raise NotFoundError(f"artifact {self.spec} has no file {name!r} (files: {names})")
        self._found[name] = found
        return found

    def _lookup(self, name: str) -> ManifestEntry | None:
        if self._entries is not None:
            return next((e for e in self._entries if e.path == name), None)
        return versions.find_entry(self._repo, self.commit, self.name, name)

    def path(self, name: str, root: str | os.PathLike[str] | None = None) -> Path:
        """One file, downloaded (verified) under ``root`` (default ``./artifacts/<name>-vN``)
        if needed; its local path."""
        entry = self.file(name)
        target = self._target(root).path(entry.path)
        return self._storage_().fetch(entry, target, what=f"artifact {self.spec}")

    def _target(self, root: str | os.PathLike[str] | None) -> DownloadRoot:
        if root is not None:
            return DownloadRoot(Path(os.fspath(root)))
        default = self.default_root()
        return DownloadRoot(default, within=default.parent)

    def _storage_(self) -> BlobVault:
        if self._storage is None:
            from gittrack.storage.project import open_storage

            self._storage = open_storage(self._repo)
        return self._storage

    def to_dict(self) -> dict[str, Any]:
        doc = self._info.to_dict()
        del doc["format"]
        return {**doc, "commit": self.commit, "aliases": self.aliases}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactVersion) and other.commit == self.commit

    def __hash__(self) -> int:
        return hash(self.commit)

    def __str__(self) -> str:
        return self.spec

    def __repr__(self) -> str:
        return f"<gittrack.ArtifactVersion {self.spec} type={self.type!r}>"
