"""``wandb.Artifact``: ``gittrack.Artifact`` with W&B's signatures.

``policy="mutable"`` (W&B's default) copies the file now into a staging folder, so that the
version holds the bytes as they were at ``add_file`` even if the script changes the file
before ``log_artifact``; ``"immutable"`` promises the file will not change and stores it from
where it is. ``new_file`` writes into a staged file. ``add_reference(checksum=False)`` and
``max_objects`` are accepted: gittrack always records a checksum.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from gittrack.artifacts.artifact import Artifact as _Artifact
from gittrack.artifacts.artifact import PlannedFile
from gittrack.artifacts.manifest import NameSet
from gittrack.errors import UsageError

POLICIES = ("mutable", "immutable")


class Artifact(_Artifact):
    """``wandb.Artifact(name, type, description=None, metadata=None)``; W&B's other
    keywords (``incremental``, ``use_as``, ``storage_region``) are accepted and unused."""

    def __init__(self, name: str, type: str, description: str | None = None,
                 metadata: Mapping[str, Any] | None = None, incremental: bool = False,
                 use_as: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, type, description, metadata)
        self.aliases: list[str] = []
        self._staging: Path | None = None

    def _stage(self) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="gittrack-artifact-"))
            weakref.finalize(self, shutil.rmtree, str(self._staging), True)
        return self._staging

    def add_file(self, local_path: str | os.PathLike[str],  # type: ignore[override]
                 name: str | None = None, is_tmp: bool | None = False,
                 skip_cache: bool | None = False, policy: str | None = "mutable",
                 overwrite: bool = False) -> PlannedFile:
        """Add one file as ``name`` (default: its file name). ``is_tmp``: the name's stem
        becomes a digest of the content (W&B's rule for temporary files); ``overwrite``
        replaces a file already added under that name."""
        source = Path(os.fspath(local_path))
        policy = _policy(policy)
        if not source.is_file():
            return self._refuse_path(source)
        target = name if name is not None else source.name
        if is_tmp:
            _stem, dot, ext = Path(target).name.partition(".")
            digest = _sha256(source)[:20]
            target = str(Path(target).with_name(digest + dot + ext))
        if overwrite:
            self.remove(target)
        if policy == "mutable":
            staged = self._stage() / f"{len(self._planned)}-{source.name}"
            shutil.copyfile(source, staged)
            source = staged
        super().add_file(source, name=target)
        return PlannedFile(target, os.fspath(source))

    def _refuse_path(self, source: Path) -> PlannedFile:
        super().add_file(source)  # raises UsageError naming the path
        raise AssertionError("unreachable")

    def add_dir(self, local_path: str | os.PathLike[str],
                name: str | None = None, skip_cache: bool | None = False,
                policy: str | None = "mutable", merge: bool = False) -> None:
        """Add every file under a folder, under ``name/``; ``mutable`` copies them now."""
        root = Path(os.fspath(local_path))
        if _policy(policy) == "mutable" and root.is_dir():
            staged = self._stage() / f"dir-{len(self._planned)}"
            shutil.copytree(root, staged, symlinks=False)
            root = staged
        super().add_dir(root, name=name)

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None,
                 policy: str = "mutable") -> Iterator[IO[Any]]:
        """Open a new staged file to write, added as ``name`` when the block ends."""
        if name in self._planned:
            raise UsageError(f"artifact {self.name} already has a file named {name!r}")
        path = self._stage() / "new" / str(len(self._planned)) / Path(name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding or "utf-8"}
        with open(path, mode, **kwargs) as f:
            yield f
        super().add_file(path, name=name)

    def add_reference(self, uri: Any, name: str | os.PathLike[str] | None = None,
                      checksum: bool = True, max_objects: int | None = None) -> None:
        """An external object by URI (``checksum`` and ``max_objects`` accepted; gittrack
        always records a checksum)."""
        super().add_reference(uri, None if name is None else os.fspath(name))

    def add(self, obj: Any, name: str, overwrite: bool = False) -> None:
        """A media object or table (``gittrack.Table`` ...) as ``name`` (``.json`` added)."""
        to_json = getattr(obj, "to_json", None) or getattr(obj, "to_dict", None)
        if to_json is None:
            raise UsageError(f"Artifact.add takes a media object or table, got {obj!r}")
        import json

        target = name if name.endswith(".json") else f"{name}.json"
        if overwrite:
            self.remove(target)
        with self.new_file(target, mode="w") as f:
            json.dump(to_json(), f, default=str)

    def remove(self, item: str) -> None:
        """Take a file (or folder prefix) out of what will be logged."""
        gone = [n for n in self._planned if n == item or n.startswith(item.rstrip("/") + "/")]
        for n in gone:
            del self._planned[n]
        if gone:
            names = NameSet.of([n for n, p in self._planned.items()
                                if isinstance(p, PlannedFile)])
            self._names = names if names is not None else NameSet()

    def wait(self, timeout: int | None = None) -> Artifact:
        """W&B waits for an upload; gittrack's ``log_artifact`` has finished already."""
        return self

    def save(self) -> None:
        """Only inside a run: ``run.log_artifact(art)``."""
        raise UsageError("Artifact.save(): log it with run.log_artifact(artifact)")


def _policy(policy: str | None) -> str:
    policy = policy or "mutable"
    if policy not in POLICIES:
        raise UsageError(f"policy must be 'mutable' or 'immutable', got {policy!r}")
    return policy


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

