"""Opening the user's repository: the one place that finds ``.git`` and gittrack's folder in it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pygit2

from gittrack.errors import NotAGitRepositoryError, RepositoryError

# The repository handle every layer above passes around; only ``gittrack.git`` touches pygit2.
Repository = pygit2.Repository

_fsync_enabled = False


def enable_fsync() -> None:
    """Make libgit2 fsync objects and refs it writes (done once, by writers only)."""
    global _fsync_enabled
    if not _fsync_enabled:
        pygit2.option(pygit2.enums.Option.ENABLE_FSYNC_GITDIR, 1)
        _fsync_enabled = True


def fsync_enabled() -> bool:
    """Whether ``enable_fsync`` was called: objects written outside libgit2 fsync too."""
    return _fsync_enabled


def discover(path: str | os.PathLike[str] | None = None) -> pygit2.Repository:
    """The repository containing ``path`` (default: the current directory).

    Raises ``NotAGitRepositoryError`` naming the fix when there is none: gittrack records
    runs in the repository of the code being run, and never invents one elsewhere.
    """
    start = Path(os.fspath(path) if path is not None else os.getcwd())
    if not start.exists():
        raise NotAGitRepositoryError(f"{start} does not exist")
    try:
        found = pygit2.discover_repository(str(start))
    except pygit2.GitError as exc:
        raise RepositoryError(f"cannot read a git repository at {start}: {exc}") from None
    if found is None:
        raise NotAGitRepositoryError(
            f"{start} is not inside a git repository: run `git init` there, "
            "or pass repo=PATH (GITTRACK_REPO, or `gittrack -C PATH`) to use another one"
        )
    try:
        return pygit2.Repository(found)
    except pygit2.GitError as exc:
        raise RepositoryError(f"cannot open the git repository at {found}: {exc}") from None


def work_tree(repo: pygit2.Repository) -> Path | None:
    """The checked-out folder of the code, ``None`` in a bare repository."""
    return None if repo.is_bare or repo.workdir is None else Path(repo.workdir)


def reopen(repo: pygit2.Repository) -> pygit2.Repository:
    """Another handle on the same repository: libgit2 objects are not safe to share between
    threads at once, so a second thread opens its own."""
    return pygit2.Repository(repo.path)


def drop_caches(repo: pygit2.Repository) -> None:
    """Empty ``repo``'s object cache and close its object database, reopened on next use.

    libgit2 keeps every commit and tree looked up (up to 256 MB by default): a live run's
    checkpoint looks up the trees of the commit before it, which are never read again, so
    over a day of checkpoints the cache was most of the writer's growth in memory (issue 10:
    about 35 MB at 8,640 checkpoints). Only for a handle no other thread is using."""
    repo.free()


def work_folder(repo: pygit2.Repository) -> str:
    """The work tree, else (bare) the repository's own folder: where ``git -C`` runs and a
    path git prints relative to the repository starts."""
    return str(repo.workdir or repo.path)


def gittrack_dir(repo: pygit2.Repository) -> Path:
    """Local-only state (write-ahead logs, locks, caches): ``.git/gittrack/``."""
    return Path(repo.path) / "gittrack"


def every_gittrack_dir(repo: pygit2.Repository) -> list[Path]:
    """``gittrack_dir`` of every worktree of the repository, this one's first. From a linked
    worktree, ``gittrack_dir`` is that worktree's (``.git/worktrees/NAME/gittrack``), and so
    are the write-ahead logs of the runs started there, while the refs they write are shared:
    whatever asks "is this run live?" must look in all of them."""
    common = common_dir(repo)
    try:
        linked = sorted(p for p in (common / "worktrees").iterdir() if p.is_dir())
    except OSError:
        linked = []
    found = dict.fromkeys(p.resolve() for p in (Path(repo.path), common, *linked))
    return [p / "gittrack" for p in found]


def common_dir(repo: pygit2.Repository) -> Path:
    """The folder shared refs live in: ``.git``, also from a linked worktree."""
    path = Path(repo.path)
    try:
        # bytes: an absolute pointer names a folder that may not be UTF-8
        pointer = os.fsdecode((path / "commondir").read_bytes().strip())
    except OSError:
        return path
    return (path / pointer).resolve()


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` (and parents) or raise a ``RepositoryError`` naming it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RepositoryError(
            f"cannot write gittrack's state to {path}: {exc.strerror or exc}"
        ) from None
    return path


@contextlib.contextmanager
def writing(what: str, folder: Path) -> Iterator[None]:
    """The one conversion of libgit2's write failures (``pygit2.GitError``, ``OSError``: a
    full disk, a read-only ``.git``) into a ``RepositoryError`` naming ``what`` was written
    (``a blob of 1,024 bytes``, ``ref refs/...``), the ``folder`` and the reason; every
    object and ref write of ``gittrack.git`` goes through it, so none escapes as an internal
    error. Other errors (a ``ConflictError`` for a ref that moved) pass through."""
    try:
        yield
    except (pygit2.GitError, OSError) as exc:
        raise RepositoryError(f"cannot write {what} into {folder}: {_reason(exc, folder)}") \
            from None


_LOW_SPACE = 1024 * 1024


def _reason(exc: BaseException, folder: Path) -> str:
    """The reason in ``exc``; for libgit2's own errors, which may have none (a large blob is
    streamed, and a failed stream says "no error"), also what the file system tells."""
    if isinstance(exc, OSError) and exc.strerror:
        named = exc.filename if exc.filename is not None else ""
        return f"{exc.strerror} ({os.fsdecode(named)})" if named else exc.strerror
    text = str(exc).strip()
    if isinstance(exc, OSError) and text:
        return text  # libgit2's "failed to write out file: No space left on device"
    if not text or text.lower() == "no error":
        text = "libgit2 gave no reason"
    found = _disk_state(folder)
    return f"{found} ({text})" if found else text


def _disk_state(folder: Path) -> str | None:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    if stat.f_flag & os.ST_RDONLY:
        return "Read-only file system"
    free = stat.f_bavail * stat.f_frsize
    if free < _LOW_SPACE:
        return f"No space left on device ({free:,} bytes free)"
    return None
