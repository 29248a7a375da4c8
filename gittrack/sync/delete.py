"""``gittrack rm`` and ``gittrack artifact rm``: refs deleted locally (compare-and-swap), their
reflogs and the objects only they reached pruned, and with a remote, deleted there in one push.

The remote goes first: if it refuses, nothing local has changed and the command can simply be
run again. Mirror refs (``refs/gittrack-remotes/<remote>/...``) of that remote follow it.

Locally, every ref change and every mirror ref dropped with them is one transaction on
``packed-refs`` (``refs.update_refs``), each local ref a compare-and-swap on the value the plan
saw: a ref that moved meanwhile (or that another process is writing) is left as it is and
reported in ``DeleteReport.skipped``; the others are deleted all the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Sequence, Set

from gittrack.artifacts import aliases, manifest_cache, versions
from gittrack.errors import NotFoundError
from gittrack.git import namespace, prune, refs, transport
from gittrack.git.repo import Repository
from gittrack.runs import index, layout, store
from gittrack.runs.liveness import held_logs
from gittrack.sync import localio, mirror
from gittrack.types import CommitId, RefName, RunId


@dataclasses.dataclass(frozen=True, slots=True)
class RefChange:
    """``ref`` moves from ``old`` to ``new`` (``None``: deleted)."""

    ref: RefName
    old: CommitId
    new: CommitId | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DeleteReport:
    changed: tuple[RefName, ...]
    remote: str | None = None
    remote_changed: tuple[str, ...] = ()
    pruned: int = 0
    kept: tuple[str, ...] = ()
    """Objects still in the repository: another remote's mirror, an alternate or a .keep pack."""
    elsewhere: tuple[str, ...] = ()
    """Other remotes whose mirror still has a deleted ref (it is still on those remotes)."""
    skipped: tuple[RefName, ...] = ()
    """Local refs left as they were: they moved since the plan, or another process is
    writing them (compare-and-swap). Running the command again deals with them."""


def delete_runs(repo: Repository, run_ids: Sequence[RunId], *,
                remote: str | None = None, also: Sequence[RefChange] = (),
                remote_prefixes: Iterable[str] = ()) -> DeleteReport:
    """Delete runs here (and on ``remote``); a run being written by a live process is refused.

    ``also``: more ref changes made in the same push (purge's artifact versions).
    """
    changes = list(also)
    for run_id in dict.fromkeys(run_ids):
        head = store.head(repo, run_id)
        if head is None:
            raise NotFoundError(f"no run {run_id}")
        changes.append(RefChange(layout.run_ref(run_id), head))
    with held_logs(repo, list(dict.fromkeys(run_ids))) as keep:
        report = apply(repo, changes, remote=remote, remote_prefixes=remote_prefixes)
        keep.update(r[len(namespace.RUNS):] for r in report.skipped)
    _refresh_run_cache(repo)
    return report


def delete_artifact(repo: Repository, name: str, *,
                    remote: str | None = None) -> DeleteReport:
    """Delete artifact ``name``: every version and every alias."""
    return apply(repo, artifact_changes(repo, name), remote=remote,
                 remote_prefixes=[aliases.alias_ref(name, "")])


def artifact_changes(repo: Repository, name: str) -> list[RefChange]:
    """Deleting artifact ``name``: its ref and every alias ref."""
    head = versions.head(repo, name)
    if head is None:
        raise NotFoundError(f"no artifact named {name!r}")
    changes = [RefChange(versions.artifact_ref(name), head)]
    return changes + [RefChange(aliases.alias_ref(name, a), c)
                      for a, c in aliases.alias_refs_of(repo, name).items()]


def apply(repo: Repository, changes: Sequence[RefChange], *, remote: str | None = None,
          remote_prefixes: Iterable[str] = (),
          remote_changes: Sequence[RefChange] | None = None) -> DeleteReport:
    """Make ``changes`` on ``remote`` (one atomic push), then here; prune what they freed.

    ``remote_prefixes``: refs under these are deleted on the remote too (aliases the remote
    has and this clone never fetched). ``remote_changes``: the changes to make on the remote
    instead, planned by the caller from its refs (each with a lease on its ``old``).
    """
    remote_changed: tuple[str, ...] = ()
    old_tips = [c.old for c in changes]
    if remote is not None:
        remote_changed, tips = _apply_remote(repo, changes, remote, tuple(remote_prefixes),
                                             remote_changes)
        old_tips += tips
    drops, tips = _drop_mirrors(repo, {c.ref for c in changes if c.new is None}, remote)
    old_tips += tips
    local = [refs.RefUpdate(c.ref, c.new, c.old) for c in changes]
    # One transaction: one packed-refs rewrite for all of them, not one per ref.
    refused = {u.name for u in localio.write_refs(repo, local + drops)}
    done, skipped = settle(changes, refused)
    _drop_reflogs(repo, [c.ref for c in done] + [d.name for d in drops if d.name not in refused])
    result = prune.prune_unreachable(repo, old_tips)
    manifest_cache.forget_missing(repo)
    return DeleteReport(
        changed=tuple(c.ref for c in done), remote=remote, remote_changed=remote_changed,
        pruned=result.removed, kept=result.kept,
        elsewhere=_elsewhere(repo, {c.ref for c in done if c.new is None}), skipped=skipped,
    )


def settle(changes: Sequence[RefChange],
           refused: Set[str]) -> tuple[list[RefChange], tuple[RefName, ...]]:
    """The changes made (their ref not ``refused`` by the transaction), and the refs skipped
    (each once, in order)."""
    skipped = tuple(dict.fromkeys(c.ref for c in changes if c.ref in refused))
    return [c for c in changes if c.ref not in refused], skipped


def _apply_remote(repo: Repository, changes: Sequence[RefChange], remote: str,
                  prefixes: tuple[str, ...], remote_changes: Sequence[RefChange] | None,
                  ) -> tuple[tuple[str, ...], list[CommitId]]:
    """The remote goes first (one atomic push): the refs changed there, and their old tips
    (pruning here must see what they held)."""
    localio.check_writable(repo, f"here or on {remote}")
    if remote_changes is None:
        remote_changes = _remote_deletions(repo, changes, remote, prefixes)
    return push_changes(repo, remote, remote_changes), [c.old for c in remote_changes]


def _drop_reflogs(repo: Repository, names: Iterable[str]) -> None:
    for name in names:
        _drop_reflog(repo, name)  # its entries name what was deleted or rewritten


def _remote_deletions(repo: Repository, changes: Sequence[RefChange], remote: str,
                      prefixes: tuple[str, ...]) -> list[RefChange]:
    """``changes`` as the remote must see them: only refs it has, deleted with a lease on the
    value ``ls-remote`` showed; plus every ref it has under ``prefixes``."""
    transport.check_remote(repo, remote)
    there = transport.ls_remote(repo, remote)
    wanted = {c.ref: c for c in changes}
    out: list[RefChange] = []
    for ref, sha in sorted(there.items()):
        change = wanted.get(RefName(ref))
        if change is None and not ref.startswith(prefixes or ("\0",)):
            continue
        if change is not None and change.new is not None:
            # A rewritten chain replaces the remote's only if it is the chain we rewrote.
            out.append(change)
        else:
            out.append(RefChange(RefName(ref), CommitId(sha)))  # what we saw, not a newer push
    return out


def push_changes(repo: Repository, remote: str,
                 changes: Sequence[RefChange]) -> tuple[str, ...]:
    """One atomic push of ``changes``, each leased on its ``old``; the mirror follows."""
    specs = [f"+{c.new}:{c.ref}" if c.new is not None else f":{c.ref}" for c in changes]
    if any(c.new is None for c in changes):
        # The remote says it had refs deleted: a clone that finds it empty knows why.
        specs.append(mirror.deletion_mark(repo))
    transport.push(repo, remote, specs, leases={c.ref: c.old for c in changes},
                   no_verify=True)
    key = mirror.mirror_key(repo, remote)
    # The remote has them now, whatever happens here next: recorded at once, one transaction.
    localio.write_refs(repo, mirror.record_updates(key, [(c.ref, c.new) for c in changes], {}),
                       f"{remote} has the change; `gittrack pull {remote}` records it here")
    return tuple(c.ref for c in changes)


def _drop_mirrors(repo: Repository, deleted: set[RefName],
                  remote: str | None) -> tuple[list[refs.RefUpdate], list[CommitId]]:
    """The deletions of the deleted refs' mirrors of ``remote`` (done by the push already,
    normally), for the caller's transaction; and the tips of every mirror of them, so that
    pruning can see what they held."""
    drops: list[refs.RefUpdate] = []
    tips: list[CommitId] = []
    key = mirror.mirror_key(repo, remote) if remote is not None else None
    # The alias records of the last push/pull (BASE_ROOT) follow the mirror: both are what
    # that remote holds, and both keep objects reachable.
    for root in (namespace.MIRROR_ROOT, namespace.BASE_ROOT):
        for name, sha in refs.list_refs(repo, root).items():
            this_key, _, rest = name[len(root):].partition("/")
            if namespace.ROOT + rest in deleted:
                tips.append(sha)
                if this_key == key:
                    drops.append(refs.RefUpdate(name, None, sha))
    return drops, tips


def _elsewhere(repo: Repository, deleted: set[RefName]) -> tuple[str, ...]:
    keys = set()
    for name in refs.list_refs(repo, namespace.MIRROR_ROOT):
        key, _, rest = name[len(namespace.MIRROR_ROOT):].partition("/")
        if namespace.ROOT + rest in deleted:
            keys.add(key)
    return tuple(sorted(keys))


def _drop_reflog(repo: Repository, ref: str) -> None:
    """libgit2 deletes a ref's reflog with it; a ``git`` that wrote one under
    ``core.logAllRefUpdates=always`` may have left it in a packed or odd state: remove it."""
    path = refs.common_dir(repo) / "logs" / ref  # shared by every worktree, as refs
    with localio.repository_io(path, "the ref is deleted, its reflog is left"), \
            contextlib.suppress(FileNotFoundError, IsADirectoryError):
        path.unlink()


def _refresh_run_cache(repo: Repository) -> None:
    """Rewrite the checkpoint cache without the deleted runs (it holds their config)."""
    index.forget(repo, store.list_runs(repo))


