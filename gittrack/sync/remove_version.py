"""``gittrack artifact rm NAME:vN``: one version removed from an artifact, here and, with a
remote, there in the same push.

Each side's chain is rewritten without the version (``artifacts.rewrite``): later versions
keep their numbers and content, aliases naming the removed version are deleted, aliases naming
a re-committed version follow its copy. The remote's chain is planned from the remote's own
head (fetched when this clone lacks it), so a remote ahead of or behind this clone loses the
version too, and the two rewrites still agree where the chains do. As for runs
(``sync.delete``), the remote goes first, in one atomic push leased on the values
``ls-remote`` showed; then the local refs move by compare-and-swap and the objects only the
old chain reached are pruned. Blobs are left to ``gittrack gc`` and its grace period.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from gittrack.artifacts import aliases, versions
from gittrack.artifacts.rewrite import Removal, plan_removal
from gittrack.errors import ConflictError, NotFoundError
from gittrack.git import history, namespace, refs, transport
from gittrack.git.repo import Repository
from gittrack.sync import mirror
from gittrack.sync.delete import DeleteReport, RefChange, apply
from gittrack.types import CommitId, RefName


@dataclasses.dataclass(frozen=True, slots=True)
class VersionRemovalReport:
    spec: str
    here: Removal | None
    """The local rewrite (``None``: this clone had no such version)."""
    there: Removal | None
    """The remote's rewrite (``None``: no remote given, or it had no such version)."""
    aliases: tuple[str, ...]
    """Aliases deleted because they named the removed version (here or on the remote)."""
    refs: DeleteReport

    @property
    def latest(self) -> int | None:
        """The number ``latest`` names here now (``None``: the artifact is gone here)."""
        return self.here.left[0] if self.here is not None and self.here.left else None


def remove_version(repo: Repository, name: str, number: int, *,
                   remote: str | None = None) -> VersionRemovalReport:
    """Remove ``name:v<number>`` here (and on ``remote``); see the module docstring."""
    here, missing = _plan(repo, name, versions.head(repo, name), number)
    local_aliases = aliases.aliases(repo, name)
    there, remote_changes = None, None
    if remote is not None:
        there, remote_changes = _remote_plan(repo, name, number, remote, here)
    if here is None and there is None:
        assert missing is not None
        where = f" nor on {remote}" if remote is not None else ""
        raise type(missing)(f"{missing}{where}")
    if here is not None:
        changes = _changes(name, here, local_aliases)
    else:
        assert there is not None
        changes = _stale_aliases(name, there.removed, local_aliases)
    report = apply(repo, changes, remote=remote, remote_changes=remote_changes)
    removed = [side.removed for side in (here, there) if side is not None]
    gone = {c.ref.rpartition("/")[2] for c in [*changes, *(remote_changes or [])]
            if c.new is None and c.ref.startswith(namespace.ALIASES)}
    report = dataclasses.replace(
        report, elsewhere=tuple(sorted({*report.elsewhere, *_elsewhere(repo, name, removed)})))
    return VersionRemovalReport(f"{name}:v{number}", here, there, tuple(sorted(gone)), report)


def _plan(repo: Repository, name: str, tip: CommitId | None,
          number: int) -> tuple[Removal | None, NotFoundError | None]:
    """The rewrite of the chain ending at ``tip``, or why there is none."""
    if tip is None:
        return None, NotFoundError(f"no artifact named {name!r}")
    try:
        return plan_removal(repo, name, tip, number), None
    except NotFoundError as exc:
        return None, exc


def _changes(name: str, removal: Removal, known: Mapping[str, CommitId]) -> list[RefChange]:
    """The artifact ref moved to (or, for its only version, deleted from) the rewritten
    chain, and each alias moved to its version's copy or deleted with the version."""
    out = [RefChange(versions.artifact_ref(name), removal.old_head, removal.new_head)]
    for alias, commit in known.items():
        target = removal.target(commit)
        if target != commit:
            out.append(RefChange(aliases.alias_ref(name, alias), commit, target))
    return out


def _stale_aliases(name: str, removed: CommitId,
                   known: Mapping[str, CommitId]) -> list[RefChange]:
    """Aliases on a side whose chain was already without the version, still naming it."""
    return [RefChange(aliases.alias_ref(name, alias), commit)
            for alias, commit in known.items() if commit == removed]


def _remote_plan(repo: Repository, name: str, number: int, remote: str,
                 here: Removal | None) -> tuple[Removal | None, list[RefChange]]:
    """The remote's rewrite, from its own head, and the ref changes to push for it."""
    transport.check_remote(repo, remote)
    listing = {RefName(r): CommitId(s) for r, s in transport.ls_remote(repo, remote).items()}
    tip = listing.get(versions.artifact_ref(name))
    if tip is not None and not history.exists(repo, tip):
        mirror.fetch_mirror(repo, remote)  # its chain, to rewrite it here
        if not history.exists(repo, tip):
            raise ConflictError(f"artifact {name} moved on {remote} while we looked; try again")
    there, _ = _plan(repo, name, tip, number)
    prefix = aliases.alias_ref(name, "")
    known = {ref[len(prefix):]: sha for ref, sha in listing.items() if ref.startswith(prefix)}
    if there is not None:
        return there, _changes(name, there, known)
    return None, _stale_aliases(name, here.removed, known) if here is not None else []


def _elsewhere(repo: Repository, name: str, removed: list[CommitId]) -> set[str]:
    """Remotes whose mirror here still reaches a removed version: it is still on them."""
    present = [c for c in removed if history.exists(repo, c)]
    found: set[str] = set()
    for ref, sha in refs.list_refs(repo, namespace.MIRROR_ROOT).items():
        key, _, rest = ref[len(namespace.MIRROR_ROOT):].partition("/")
        if rest != f"artifacts/{name}" and not rest.startswith(f"aliases/{name}/"):
            continue
        if any(history.reaches(repo, sha, c) for c in present):
            found.add(key)
    return found


