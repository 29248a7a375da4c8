"""The state of the code a run ran on: commit, branch, remote URL (without credentials), dirty."""

from __future__ import annotations

import dataclasses
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
