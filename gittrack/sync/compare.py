"""How a local ref stands against the remote's: the decision table of push and pull.

Runs and artifact versions are commit chains that only grow, so ancestry decides: a ref whose
remote value is an ancestor of the local one is *ahead* (push it), the reverse is *behind*
(pull it), neither is *diverged* (both kept, reported). Aliases move anywhere, so for them the
value last seen on the remote (the mirror before this sync) decides who moved. A ref the
remote had when we last looked and no longer has was *deleted* there: push does not send it
back, pull deletes it here if it has nothing new (``local_changes``).
"""

from __future__ import annotations

import dataclasses
import enum

from gittrack.git import history, namespace
from gittrack.git.repo import Repository
from gittrack.types import CommitId


class Standing(enum.Enum):
    SAME = "up to date"
    LOCAL_ONLY = "new"
    REMOTE_ONLY = "only on the remote"
    AHEAD = "ahead"
    BEHIND = "behind"
    DIVERGED = "diverged"
    DELETED = "deleted on the remote"


@dataclasses.dataclass(frozen=True, slots=True)
class RefState:
    ref: str
    local: CommitId | None
    remote: str | None
    standing: Standing


def compare(repo: Repository, ref: str, local: CommitId | None, remote: str | None,
            last_seen: str | None) -> RefState:
    """How ``ref`` stands; ``last_seen``: its value on the remote at the last sync, if the
    mirror can be trusted to say so (``None`` otherwise)."""
    return RefState(ref, local, remote, _standing(repo, ref, local, remote, last_seen))


def local_changes(repo: Repository, ref: str, local: str, last_seen: str) -> bool:
    """Whether ``local`` holds something the remote did not have at ``last_seen``: a commit
    of a run or artifact that it does not reach, or an alias moved since."""
    if local == last_seen:
        return False
    if ref.startswith(namespace.ALIASES) or not history.exists(repo, last_seen):
        return True
    return not history.reaches(repo, last_seen, local)


def _standing(repo: Repository, ref: str, local: str | None, remote: str | None,
              last_seen: str | None) -> Standing:
    if local == remote:
        return Standing.SAME
    if remote is None:
        return Standing.LOCAL_ONLY if last_seen is None else Standing.DELETED
    if local is None:
        return Standing.REMOTE_ONLY
    if ref.startswith(namespace.ALIASES):
        if remote == last_seen:
            return Standing.AHEAD
        return Standing.BEHIND if local == last_seen else Standing.DIVERGED
    if not history.exists(repo, remote):
        # Objects we have not fetched: the remote moved on; a pull tells ahead from diverged.
        return Standing.BEHIND if last_seen == local else Standing.DIVERGED
    if history.reaches(repo, local, remote):
        return Standing.AHEAD
    if history.reaches(repo, remote, local):
        return Standing.BEHIND
    return Standing.DIVERGED


def kind_and_name(ref: str) -> str:
    """``refs/gittrack/runs/abc`` → ``run abc``, for messages."""
    rest = ref.removeprefix(namespace.ROOT)
    kind, _, name = rest.partition("/")
    label = {"runs": "run", "artifacts": "artifact", "aliases": "alias"}.get(kind, kind)
    if label == "alias":
        artifact, _, alias = name.rpartition("/")
        return f"alias {artifact}:{alias}"
    return f"{label} {name}"

