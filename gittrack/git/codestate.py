"""The state of the code a run ran on: commit, branch, remote URL (without credentials), dirty."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import pygit2

from gittrack.git import transport
from gittrack.urls import strip_credentials


@dataclasses.dataclass(frozen=True, slots=True)
class CodeState:
    commit: str | None
    branch: str | None
    remote: str | None
    dirty: bool | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def code_state(repo: pygit2.Repository) -> CodeState:
    """Read once at ``init``: cheap enough for any repository git itself handles well."""
    branch = _branch(repo)
    commit = None if repo.head_is_unborn else str(repo.head.target)
    return CodeState(commit=commit, branch=branch, remote=_remote(repo, branch),
                     dirty=_dirty(repo))


def _branch(repo: pygit2.Repository) -> str | None:
    if repo.head_is_detached:
        return None
    try:
        target = repo.references["HEAD"].target
    except (KeyError, pygit2.GitError):
        return None
    name = str(target)
    return name.removeprefix("refs/heads/") if name.startswith("refs/heads/") else None


def _remote(repo: pygit2.Repository, branch: str | None) -> str | None:
    name = transport.upstream_remote(repo, branch) if branch is not None else None
    names = transport.remotes(repo)
    if name not in names:
        name = "origin" if "origin" in names else (names[0] if names else None)
    if name is None:
        return None
    url = transport.configured_url(repo, name)
    return strip_credentials(url) if url else None


def _dirty(repo: pygit2.Repository) -> bool | None:
    """Tracked files changed against HEAD (untracked files do not count, as in ``--dirty``)."""
    if repo.is_bare or repo.workdir is None:
        return None
    try:
        status = repo.status(untracked_files="no")
    except pygit2.GitError:
        return None
    ignored = pygit2.enums.FileStatus.IGNORED | pygit2.enums.FileStatus.CURRENT
    return any(flags & ~ignored for flags in status.values())


@dataclasses.dataclass(frozen=True, slots=True)
class Uncommitted:
    """The work tree's changes against HEAD as one patch ``git apply`` takes on a clean
    checkout of HEAD: tracked files (staged and unstaged) and untracked, non-ignored files
    as new files, binary-safe (``--binary``). ``skipped``: untracked files left out (larger
    than the bound, or not a regular file or symlink), as git prints their names."""

    patch: bytes
    skipped: tuple[str, ...]


def uncommitted(repo: pygit2.Repository, *, max_file: int, scratch: Path) -> Uncommitted:
    """``git diff --binary HEAD`` with the untracked files git does not ignore added as
    intent-to-add in a temporary copy of the index (under ``scratch``, removed after): the
    user's index is never written. Ignored files are never read, nor listed: git itself
    decides what is ignored (``.gitignore``, ``.git/info/exclude``, ``core.excludesFile``).
    A ``RepositoryError`` if git fails."""
    from gittrack.errors import RepositoryError
    from gittrack.git.command import run_bytes

    if repo.is_bare or repo.workdir is None:
        raise RepositoryError("a bare repository has no work tree whose code could be saved")
    unborn = repo.head_is_unborn
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="code-", dir=scratch) as folder:
        index = Path(folder) / "index"
        own = Path(repo.path) / "index"
        if own.exists():
            shutil.copyfile(own, index)
        env = {"GIT_INDEX_FILE": str(index), "GIT_LITERAL_PATHSPECS": "1",
               "GIT_OPTIONAL_LOCKS": "0"}
        # Without a commit, every file is new: the staged ones too, from an empty index.
        listing = ["ls-files", "-z", *(["--cached"] if unborn else []), "--others",
                   "--exclude-standard"]
        listed = run_bytes(repo, listing, what="listing untracked files",
                           error=RepositoryError, env=env)
        if unborn:
            run_bytes(repo, ["read-tree", "--empty"], what="emptying a temporary index",
                      error=RepositoryError, env=env)
        added, skipped = [], []
        for name in dict.fromkeys(filter(None, listed.split(b"\0"))):
            fits = _fits(Path(repo.workdir) / os.fsdecode(name), max_file)
            if fits:
                added.append(name)
            elif fits is False:
                skipped.append(os.fsdecode(name))
        if added:
            run_bytes(repo, ["add", "--intent-to-add", "--pathspec-from-file=-",
                             "--pathspec-file-nul"],
                      what="adding untracked files to a temporary index", error=RepositoryError,
                      env=env, stdin=b"\0".join(added) + b"\0")
        patch = run_bytes(repo, [
            "-c", "core.quotePath=true", "diff", "--binary", "--full-index", "--no-color",
            "--no-ext-diff", "--no-textconv", "--no-renames", "--no-relative",
            "--submodule=short", "--src-prefix=a/", "--dst-prefix=b/",
            *([] if unborn else ["HEAD"]), "--",
        ], what="diffing the work tree against HEAD", error=RepositoryError, env=env)
    return Uncommitted(patch=patch, skipped=tuple(skipped))


def _fits(path: Path, max_file: int) -> bool | None:
    """A regular file of at most ``max_file`` bytes, or a symlink (its target is stored);
    ``None`` for a file that is gone."""
    try:
        st = path.lstat()
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return True
    return stat.S_ISREG(st.st_mode) and st.st_size <= max_file


def is_ignored(repo: pygit2.Repository, path: Path) -> bool:
    """Whether git ignores ``path`` (a file of the work tree; a tracked file never is)."""
    from gittrack.errors import RepositoryError
    from gittrack.git.command import run

    done = run(repo, ["check-ignore", "-q", "--", os.fsdecode(path)],
               what=f"asking git whether {path} is ignored", error=RepositoryError, check=False)
    if done.returncode not in (0, 1):
        raise RepositoryError(f"git check-ignore failed for {path}: {done.stderr.strip()}")
    return done.returncode == 0


def listed_files(repo: pygit2.Repository, folder: Path) -> list[str]:
    """The files under ``folder`` (in the work tree) that git tracks or would track, relative
    to ``folder``: ``git ls-files --cached --others --exclude-standard``; ignored files are
    never listed."""
    from gittrack.errors import RepositoryError
    from gittrack.git.command import run_bytes

    listed = run_bytes(repo, ["-c", "core.quotePath=false", "ls-files", "-z", "--cached",
                              "--others", "--exclude-standard", "--full-name", "--",
                              os.fsdecode(folder)],
                       what=f"listing the files of {folder}", error=RepositoryError,
                       env={"GIT_LITERAL_PATHSPECS": "1", "GIT_OPTIONAL_LOCKS": "0"})
    root = Path(repo.workdir or "").resolve()
    prefix = folder.resolve().relative_to(root).as_posix()
    names = dict.fromkeys(os.fsdecode(n) for n in listed.split(b"\0") if n)
    if prefix in ("", "."):
        return list(names)
    return [n[len(prefix) + 1:] for n in names if n.startswith(prefix + "/")]
