"""Ref reads and compare-and-swap updates; pygit2 cannot list by prefix, so we filter here."""

from __future__ import annotations

import pygit2

from gittrack.errors import ConflictError
from gittrack.types import CommitId, RefName


def list_refs(repo: pygit2.Repository, prefix: str) -> dict[RefName, CommitId]:
    """Every direct ref whose name starts with ``prefix``, with the commit it points at."""
    found: dict[RefName, CommitId] = {}
    for name in repo.references:
        if name.startswith(prefix):
            target = repo.references[name].target
            if isinstance(target, pygit2.Oid):
                found[RefName(name)] = CommitId(str(target))
    return found


def get_ref(repo: pygit2.Repository, name: RefName) -> CommitId | None:
    ref = repo.references.get(name)
    if ref is None or not isinstance(ref.target, pygit2.Oid):
        return None
    return CommitId(str(ref.target))


def update_ref(
    repo: pygit2.Repository, name: RefName, new: CommitId, old: CommitId | None
) -> None:
    """Point ``name`` at ``new`` only if it still points at ``old`` (``None``: must not exist)."""
    try:
        if old is None:
            repo.references.create(name, new)
            return
        ref = repo.references.get(name)
        if ref is None or str(ref.target) != old:
            raise ConflictError(f"{name} moved (expected {old[:12]}); not overwriting it")
        ref.set_target(new)  # libgit2 re-checks the old value under the ref's lock
    except (pygit2.AlreadyExistsError, pygit2.GitError) as exc:
        raise ConflictError(f"could not update {name}: {exc}") from None


def delete_ref(repo: pygit2.Repository, name: RefName, old: CommitId) -> None:
    ref = repo.references.get(name)
    if ref is None or str(ref.target) != old:
        raise ConflictError(f"{name} moved (expected {old[:12]}); not deleting it")
    ref.delete()
