"""Opening the user's repository: the one place that finds ``.git`` and gittrack's folder in it."""

from __future__ import annotations

import os
from pathlib import Path

import pygit2

from gittrack.errors import NotAGitRepositoryError, RepositoryError

_fsync_enabled = False


def enable_fsync() -> None:
    """Make libgit2 fsync objects and refs it writes (done once, by writers only)."""
    global _fsync_enabled
    if not _fsync_enabled:
        pygit2.option(pygit2.enums.Option.ENABLE_FSYNC_GITDIR, 1)
        _fsync_enabled = True


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


def gittrack_dir(repo: pygit2.Repository) -> Path:
    """Local-only state (write-ahead logs, locks, caches): ``.git/gittrack/``."""
    return Path(repo.path) / "gittrack"


def every_gittrack_dir(repo: pygit2.Repository) -> list[Path]:
    """``gittrack_dir`` of every worktree of the repository, this one's first. From a linked
    worktree, ``gittrack_dir`` is that worktree's (``.git/worktrees/NAME/gittrack``), and so
    are the write-ahead logs of the runs started there, while the refs they write are shared:
    whatever asks "is this run live?" must look in all of them."""
    from gittrack.git.refs import common_dir

    common = common_dir(repo)
    try:
        linked = sorted(p for p in (common / "worktrees").iterdir() if p.is_dir())
    except OSError:
        linked = []
    found = dict.fromkeys(p.resolve() for p in (Path(repo.path), common, *linked))
    return [p / "gittrack" for p in found]


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
