"""Saving a run's code beyond its commit (``save_code``, off by default): the patch of
uncommitted changes, the entry-point file and the installed packages, stored as blobs.

Always, saved or not, ``run.yaml``'s ``code`` holds the commit, branch, remote and dirty flag
(``git.codestate``). With ``save_code`` on, ``init()`` (the caller's thread, before it returns)
stores, each as a blob of the project's store (encrypted for a private project):

- ``diff.patch``: ``git diff --binary HEAD`` with untracked, non-ignored files as new files:
  ``git apply`` on a clean checkout of the run's commit gives the work tree it ran on. Files
  git ignores are never read.
- the entry point (``__main__.__file__``, else ``sys.argv[0]``: the script run), under its
  path relative to the work tree; none for a notebook, ``python -c``, a script outside the
  work tree (an installed tool such as ``pytest``) or one git ignores.
- ``requirements.txt``: ``name==version`` of every package the running interpreter sees.

``code/manifest.parquet`` in the run's first checkpoint names them (the columns of an artifact
manifest: push, pull, gc and purge know the blobs), and ``run.yaml`` says ``code.saved: true``
and ``code.entrypoint``. See docs/code.md.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.errors import GittrackError, GittrackWarning, InvalidSettingError
from gittrack.git import codestate
from gittrack.git.repo import Repository, gittrack_dir, work_tree
from gittrack.runs import layout
from gittrack.runs.state import Extra, Maker
from gittrack.types import CommitId

if TYPE_CHECKING:
    from gittrack.artifacts.artifact import Artifact
    from gittrack.settings import Settings
    from gittrack.storage.entry import ManifestEntry

PATCH = "diff.patch"
PACKAGES = "requirements.txt"
MAX_FILE_BYTES = 10 * 2**20
"""An untracked file or an entry point larger than this (10 MiB) is left out, with a warning
naming it: data that is not ignored, not code."""
MAX_PATCH_BYTES = 50 * 2**20
"""A patch larger than this (50 MiB) is not saved, with a warning."""
ENV_VARS = ("GITTRACK_SAVE_CODE", "WANDB_SAVE_CODE")
"""Environment variables that turn code saving on (``true``, ``1``, ``yes``, ``on``) or off
(``false``, ``0``, ``no``, ``off``), the first set one deciding. ``WANDB_SAVE_CODE`` is
honoured for scripts run the W&B way: it only ever asks to save what the user opted into."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def wanted(repo: Repository, settings: Settings) -> bool:
    """Whether to save code: ``init(save_code=)`` or ``Settings(save_code=)`` (one field: the
    argument replaces the setting), else ``GITTRACK_SAVE_CODE``, else ``WANDB_SAVE_CODE``,
    else ``save_code:`` of ``.git/gittrack/config.yaml`` then ``.gittrack/config.yaml``, else
    off."""
    if settings.save_code is not None:
        return settings.save_code
    for var in ENV_VARS:
        raw = os.environ.get(var, "").strip().lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        if raw:
            raise InvalidSettingError(
                f"{var} must be true or false (1/0, yes/no, on/off), got {os.environ[var]!r}")
    from gittrack.storage.config import save_code_setting

    return bool(save_code_setting(repo))


@dataclasses.dataclass(frozen=True, slots=True)
class Saved:
    """What ``save`` stored: the manifest rows, and what ``run.yaml``'s ``code`` adds."""

    entries: tuple[ManifestEntry, ...]
    entrypoint: str | None

    @property
    def fields(self) -> dict[str, Any]:
        return {"saved": True, "entrypoint": self.entrypoint}

    def maker(self) -> Maker:
        """Writes ``code/manifest.parquet`` in a checkpoint (the same bytes every call)."""
        from gittrack.artifacts.manifest import write_manifest

        data = write_manifest(self.entries)
        return lambda: Extra(files={layout.CODE_MANIFEST: data})


def save(repo: Repository) -> Saved:
    """Store the patch, the entry point and the package list as blobs of the project's store
    (``RunStorage``: encrypted now for a private project with a local store, at push for a
    remote one). What is too large, or cannot be read from git, is left out with a
    ``GittrackWarning`` naming it; what cannot be stored (no keys for a private project)
    raises."""
    from gittrack.runs.run_storage import RunStorage

    storage = RunStorage(repo)
    entries = []
    patch = _patch(repo)
    if patch is not None:
        entries.append(storage.keep_bytes(patch, PATCH, what="code"))
    entry = entrypoint(repo)
    name = None
    if entry is not None:
        # its bytes, not the file: the cache would hard-link the user's file, which an
        # editor may change in place
        try:
            source = entry[0].read_bytes()
        except OSError as exc:
            _warn(f"gittrack: the entry point {entry[1]!r} is not saved: {exc.strerror or exc}")
        else:
            name = entry[1]
            entries.append(storage.keep_bytes(source, name, what="code"))
    entries.append(storage.keep_bytes(packages().encode(), PACKAGES, what="code"))
    return Saved(tuple(entries), name)


def _patch(repo: Repository) -> bytes | None:
    try:
        found = codestate.uncommitted(repo, max_file=MAX_FILE_BYTES,
                                      scratch=gittrack_dir(repo) / "tmp")
    except GittrackError as exc:
        _warn(f"gittrack: the uncommitted changes are not saved: {exc}")
        return None
    for name in found.skipped:
        _warn(f"gittrack: untracked file {name!r} is left out of the saved code: larger than "
              f"{MAX_FILE_BYTES:,} bytes, or not a regular file")
    if len(found.patch) > MAX_PATCH_BYTES:
        _warn(f"gittrack: the uncommitted changes are not saved: their patch ({PATCH}) takes "
              f"{len(found.patch):,} bytes, more than {MAX_PATCH_BYTES:,}")
        return None
    return found.patch


def entrypoint(repo: Repository) -> tuple[Path, str] | None:
    """The script this process runs and its stored name (its path relative to the work tree),
    or ``None``: a notebook, ``python -c``, the interactive interpreter, a file outside the
    work tree, a file git ignores or one too large (the last two with a warning)."""
    main = sys.modules.get("__main__")
    raw = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    if not raw or raw in ("-c", "-m", "-") or Path(raw).name.startswith("ipykernel_launcher"):
        return None  # python -c, the interactive interpreter, a notebook
    try:
        path = Path(raw).resolve()
        if not path.is_file():
            return None
        size = path.stat().st_size
    except OSError:
        return None
    root = work_tree(repo)
    if root is None or not path.is_relative_to(root.resolve()):
        return None  # an installed tool (pytest, a launcher): requirements.txt has its version
    name = path.relative_to(root.resolve()).as_posix()
    if name.split("/")[0] == ".git":
        return None
    try:
        if codestate.is_ignored(repo, path):
            _warn(f"gittrack: the entry point {name!r} is not saved: git ignores it")
            return None
    except GittrackError as exc:
        _warn(f"gittrack: the entry point {name!r} is not saved: {exc}")
        return None
    if name in (PATCH, PACKAGES):
        _warn(f"gittrack: the entry point {name!r} is not saved: the name of a saved file")
        return None
    if size > MAX_FILE_BYTES:
        _warn(f"gittrack: the entry point {name!r} is not saved: {size:,} bytes, more than "
              f"{MAX_FILE_BYTES:,}")
        return None
    return path, name


def packages() -> str:
    """``name==version`` of each distribution the running interpreter sees, one a line,
    sorted by name (the first found of a name, as ``import`` would)."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name and name.lower() not in found:
            found[name.lower()] = f"{name}=={dist.version}"
    return "".join(line + "\n" for _, line in sorted(found.items()))


def _warn(message: str) -> None:
    warnings.warn(message, GittrackWarning, stacklevel=5)


# -- reading back -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SavedCode(Mapping[str, bytes]):
    """A run's saved code: ``files`` (stored name → bytes; the object is that mapping too),
    and by role ``patch``, ``source`` (the entry point's bytes; ``entrypoint``: its name) and
    ``packages``."""

    files: Mapping[str, bytes]
    entrypoint: str | None

    def __getitem__(self, name: str) -> bytes:
        return self.files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def patch(self) -> bytes | None:
        """The uncommitted changes against the run's commit, for ``git apply`` (``None``
        when they were too large to save)."""
        return self.files.get(PATCH)

    @property
    def packages(self) -> list[str]:
        """``name==version`` lines of the installed packages."""
        return self.files.get(PACKAGES, b"").decode("utf-8", "replace").splitlines()

    @property
    def source(self) -> bytes | None:
        """The entry point's bytes."""
        return None if self.entrypoint is None else self.files.get(self.entrypoint)


def has_code(repo: Repository, commit: CommitId) -> bool:
    """Whether the run checkpoint ``commit`` names saved code."""
    from gittrack.git import objects

    tree = objects.commit_tree(repo, commit)
    return objects.entry_id(tree, layout.CODE_MANIFEST) is not None


def saved_entries(repo: Repository, commit: CommitId) -> list[ManifestEntry] | None:
    """The rows of ``code/manifest.parquet`` of checkpoint ``commit``; ``None`` without one."""
    from gittrack.artifacts.manifest import read_manifest
    from gittrack.git import objects

    tree = objects.commit_tree(repo, commit)
    data = objects.read_file(repo, tree, layout.CODE_MANIFEST)
    if data is None:
        return None
    return read_manifest(data, what=f"{layout.CODE_MANIFEST} of commit {commit[:12]}")


def load(repo: Repository, commit: CommitId, entrypoint: str | None) -> SavedCode | None:
    """The saved code of checkpoint ``commit`` (its blobs read from the local cache, else
    downloaded and decrypted), or ``None`` for a run that saved none."""
    entries = saved_entries(repo, commit)
    if entries is None:
        return None
    from gittrack.storage.project import open_storage

    vault = open_storage(repo)
    files = {e.path: vault.cached(e, what="saved code").read_bytes() for e in entries}
    if entrypoint is None or entrypoint not in files:
        entrypoint = next((n for n in files if n not in (PATCH, PACKAGES)), None)
    return SavedCode(files=files, entrypoint=entrypoint)


# -- run.log_code(): W&B's code artifact --------------------------------------------------------


def _is_py_requirements_or_dockerfile(path: str, root: str | None = None) -> bool:
    """W&B's default ``include_fn``: Python files, ``requirements.txt``, ``Dockerfile*``."""
    name = os.path.basename(path)
    return name.endswith(".py") or name.startswith("Dockerfile") or name == "requirements.txt"


def _never(path: str, root: str | None = None) -> bool:
    return False


def _ask(fn: Callable[..., Any], path: str, root: str) -> bool:
    """``fn(path, root)``, or ``fn(path)`` for a one-argument function (both are W&B's)."""
    try:
        count = len([p for p in inspect.signature(fn).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     and p.default is p.empty])
    except (TypeError, ValueError):  # a builtin without a signature
        count = 1
    return bool(fn(path, root) if count >= 2 else fn(path))


def code_artifact(repo: Repository, root: str | os.PathLike[str], name: str,
                  include_fn: Callable[..., Any] | None = None,
                  exclude_fn: Callable[..., Any] | None = None) -> Artifact | None:
    """An artifact of type ``code`` holding the files under ``root`` (inside the work tree)
    that git tracks or would track (ignored files are never listed) and ``include_fn`` keeps
    and ``exclude_fn`` does not, under their paths relative to ``root``; ``None`` when no
    file matches. ``include_fn(path, root)`` / ``exclude_fn(path, root)`` as W&B's (a
    one-argument function gets the path alone)."""
    from gittrack.artifacts.artifact import Artifact, check_artifact_name
    from gittrack.errors import UsageError

    include = include_fn or _is_py_requirements_or_dockerfile
    exclude = exclude_fn or _never
    tree = work_tree(repo)
    given = os.fspath(root)
    folder = Path(given).resolve()
    if tree is None or not folder.is_dir() or not folder.is_relative_to(tree.resolve()):
        raise UsageError(f"log_code: root {given!r} must be a folder inside the repository's "
                         f"work tree ({tree})")
    art = Artifact(check_artifact_name(name), type="code")
    found = 0
    for relative in codestate.listed_files(repo, folder):
        path = os.path.join(given, relative)
        if not os.path.isfile(path) or not _ask(include, path, given) \
                or _ask(exclude, path, given):
            continue
        art.add_file(path, name=Path(relative).as_posix())
        found += 1
    return art if found else None


def artifact_name(project: str | None, entrypoint: str | None) -> str:
    """W&B's default name of a code artifact: ``source-<project>-<entry point>``, with every
    character an artifact name refuses made ``_``, at most 128 characters."""
    parts = ["source", *(p for p in (project, entrypoint) if p)]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join(parts))
    return safe[:128].rstrip(".") or "source"
