"""The ref namespace gittrack owns, named once (docs/format.md "Refs").

``refs/gittrack/`` holds what is shared (runs, artifacts, aliases); the other roots are
local bookkeeping of sync (``refs/gittrack-remotes/``, ``refs/gittrack-sync/``) or a mark on a
remote (``refs/gittrack-meta/deleted``). Every module that builds or parses a gittrack ref name
takes its prefix from here, and every name put in a ref (a run id, an artifact or alias name)
passes ``is_valid_ref_component``.
"""

from __future__ import annotations

import re

from gittrack.errors import FormatError
from gittrack.types import RefName

ROOT = "refs/gittrack/"
RUNS = f"{ROOT}runs/"
ARTIFACTS = f"{ROOT}artifacts/"
ALIASES = f"{ROOT}aliases/"
CODE = f"{ROOT}code/"
"""One ref per code commit a run was made on (``refs/gittrack/code/<sha>`` → that commit): it
keeps the commit reachable here and on every remote the runs go to, whatever happens to the
branches (rebase, squash, a server's gc). Shared like the runs; collected by ``gittrack gc``."""
MIRROR_ROOT = "refs/gittrack-remotes/"
"""The remote's ``refs/gittrack/*`` as last fetched or pushed, per remote (local only)."""
BASE_ROOT = "refs/gittrack-sync/"
"""Each alias's value at the last sync, per remote: a tombstone once pruned (local only)."""
DELETED_MARK = RefName("refs/gittrack-meta/deleted")
"""Set on a remote by every gittrack push that deletes refs there (docs/sync.md)."""
EVERY = "refs/gittrack"
"""The common prefix of every root above: listing it lists all of gittrack's refs at once."""

# 1-128 letters, digits, ".", "_", "-", starting with a letter or digit; no "..", not ending
# in "." or ".lock": one pattern, so that checking the names of 100,000 refs is one C call each
_SAFE_ID = re.compile(r"\A(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}(?<!\.)(?<!\.lock)\Z",
                      re.DOTALL)


_SHA = re.compile(r"\A[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")


def code_ref(commit: str) -> RefName:
    """The ref that keeps ``commit`` (a full SHA-1 or SHA-256 id) reachable."""
    if _SHA.match(commit) is None:
        raise FormatError(f"not a full commit id: {commit!r}")
    return RefName(CODE + commit)


def code_commit(ref: str) -> str | None:
    """The commit a code ref keeps (``None`` for any other ref, or a malformed name)."""
    if not ref.startswith(CODE):
        return None
    rest = ref[len(CODE):]
    return rest if _SHA.match(rest) else None


def is_valid_ref_component(name: str) -> bool:
    """A name usable as one path component of a ref (``git check-ref-format`` rules, tightened)."""
    return _SAFE_ID.match(name) is not None


__all__ = ["ALIASES", "ARTIFACTS", "BASE_ROOT", "CODE", "DELETED_MARK", "EVERY", "MIRROR_ROOT",
           "ROOT", "RUNS", "code_commit", "code_ref", "is_valid_ref_component"]
