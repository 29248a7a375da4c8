"""``gittrack fetch`` and ``gittrack pull``: the remote's refs into the mirror, then the local
refs fast-forwarded where that loses nothing.

The mirror (``refs/gittrack-remotes/<remote>/``) and the local refs are written in one
transaction (one rename of ``packed-refs``), each local ref by compare-and-swap, so an
interrupted pull leaves every ref either as it was or moved forward, and running it again
completes it. A run or
artifact whose histories diverged is never overwritten: the remote's stays under the mirror
ref, the local one is untouched, until ``--force`` (which says what it replaces).

A ref the remote had at the last sync and has no longer was deleted there (``gittrack rm
--remote``, ``purge``, ``artifact rm``): the mirror drops it, and pull deletes the local ref
too — with its reflog and the objects only it reached, as ``gittrack rm`` does — when it holds
nothing the remote did not have. A ref with local changes is kept and reported, and so is
everything with ``prune=False``.

An artifact that diverged because versions were logged here and on the remote since the last
sync is rebased, not kept apart: the versions made here go on top of the remote's chain,
renumbered (``artifacts.rewrite.plan_rebase``), content-identical ones collapse into the
teammate's, and the local aliases follow; the same plan takes a chain a teammate rewrote by
removing versions, when nothing new was made here. Nobody's version is dropped: only
``--force`` replaces the local chain with the remote's.

A run live here (its write-ahead log exists in some worktree: being written, or crashed and
not yet recovered) is never moved by a pull, neither fast-forwarded nor forced nor deleted:
its writer's next checkpoint is a compare-and-swap on the head it wrote, and would fail. The
remote's version stays in the mirror and the run is reported (``PullReport.live``); a pull
after the run finishes takes it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence, Set

from gittrack.artifacts.rewrite import Rebase
from gittrack.git import namespace, refs, transport
from gittrack.git.repo import Repository
from gittrack.sync import localio, mirror
from gittrack.sync.advice import rewrite_advice
from gittrack.sync.compare import RefState, Standing, compare, local_changes
from gittrack.types import CommitId, RefName

TAKE = (Standing.REMOTE_ONLY, Standing.BEHIND)


class KeptBecause(enum.Enum):
    """Why a ref the remote deleted is still here."""

    LOCAL_CHANGES = "it has local changes"
    NO_PRUNE = "--no-prune"
    LIVE = "it is being written here (or crashed: `gittrack recover`)"
    UNSURE = ("the remote's URL changed or it has no runs or artifacts any more, so this "
              "may not be a deletion")


@dataclasses.dataclass(frozen=True, slots=True)
class Kept:
    ref: str
    local: CommitId
    why: KeptBecause


@dataclasses.dataclass(frozen=True, slots=True)
class PullReport:
    remote: str
    url: str
    key: str
    states: tuple[RefState, ...] = ()
    """Every ref the remote has that is not the same here (those are only counted:
    ``up_to_date``)."""
    updated: tuple[RefState, ...] = ()
    forced: tuple[RefState, ...] = ()
    deleted: tuple[RefState, ...] = ()
    """Refs the remote deleted, deleted here too (by ``fetch``: that a pull would delete)."""
    kept: tuple[Kept, ...] = ()
    """Refs the remote deleted (or no longer has), kept here, and why."""
    refused: tuple[str, ...] = ()
    """Local refs that moved during the pull: left as they were (pull again)."""
    locked: tuple[tuple[str, str], ...] = ()
    """Local refs left as they were because their lock file exists: (ref, lock file). Another
    process is writing the ref, or a killed one left the file: it stays until removed."""
    live: tuple[RefState, ...] = ()
    """Runs the pull would have moved (remote ahead, or diverged with ``force``) that are
    being written here: left as they are, the remote's version in the mirror (pull again
    once they finish)."""
    pruned: int = 0
    """Objects removed from this repository with the deleted refs."""
    blobs_downloaded: int = 0
    fetch_only: bool = False
    advice: tuple[str, ...] = ()
    """For artifacts that diverged because versions were removed on one side: which, and the
    command that follows (``sync.advice``)."""
    up_to_date: int = 0
    """Refs the same on both sides: with 100,000 runs, a state object for each was a fifth
    of a pull that had nothing to do."""
    rebased: tuple[Rebased, ...] = ()
    """Diverged artifacts whose local versions were put on top of the remote's (or which
    took a removal made on the remote): their local ref moved to the rebased chain."""

    def of(self, *standings: Standing) -> list[RefState]:
        return [s for s in self.states if s.standing in standings]

    @property
    def diverged(self) -> list[RefState]:
        settled = {*self.forced, *self.live, *(r.state for r in self.rebased)}
        return [s for s in self.of(Standing.DIVERGED) if s not in settled]

    @property
    def deleted_remotely(self) -> tuple[str, ...]:
        """Every ref the remote no longer has that we last saw there."""
        return tuple(sorted([s.ref for s in self.deleted] + [k.ref for k in self.kept]))


@dataclasses.dataclass(frozen=True, slots=True)
class Rebased:
    """A diverged artifact settled by a rebase: its state, the plan, and the local aliases
    moved with it (alias ref → its new value, ``None``: deleted with a removed version)."""

    state: RefState
    plan: Rebase
    aliases: Mapping[str, tuple[CommitId, CommitId | None]] = dataclasses.field(
        default_factory=dict)
    """Each local alias moved with it: ref → (value before, value now; ``None``: deleted)."""

    def moves(self) -> list[refs.RefUpdate]:
        return [refs.RefUpdate(RefName(self.state.ref), self.plan.new_head, self.state.local),
                *(refs.RefUpdate(RefName(ref), new, old)
                  for ref, (old, new) in sorted(self.aliases.items()))]


@dataclasses.dataclass(frozen=True, slots=True)
class PullPlan:
    """What a pull does with the compared refs (``plan_pull``): a pure decision."""

    updated: tuple[RefState, ...] = ()
    """Remote only or behind: created or fast-forwarded here."""
    forced: tuple[RefState, ...] = ()
    """Diverged, taken with ``force``."""
    live: tuple[RefState, ...] = ()
    """Would have moved, but the run is being written here: left as it is."""
    deleted: tuple[RefState, ...] = ()
    """Deleted on the remote: deleted here."""
    rebased: tuple[Rebased, ...] = ()
    """Diverged artifacts rebased onto the remote's chain (``rebase_plans``)."""

    def moves(self) -> list[refs.RefUpdate]:
        """The local ref changes, each a compare-and-swap on the value compared."""
        moves = [refs.RefUpdate(RefName(s.ref), CommitId(str(s.remote)), s.local)
                 for s in [*self.updated, *self.forced]]
        moves += [move for r in self.rebased for move in r.moves()]
        return moves + [refs.RefUpdate(RefName(s.ref), None, s.local) for s in self.deleted]


def fetch(repo: Repository, remote: str | None = None, *,
          prune: bool = True) -> PullReport:
    """Update the mirror only, and say how each ref stands; no local ref moves."""
    remote = transport.check_remote(repo, remote or transport.default_remote(repo))
    seen = mirror.glance(repo, remote)
    if seen.same is not None:
        return _unchanged(repo, remote, seen.same, fetch_only=True)
    report, fetched = _fetch(repo, remote, seen.listed, fetch_only=True, prune=prune)
    mirror.write(repo, fetched)
    return dataclasses.replace(
        report, advice=rewrite_advice(repo, report.diverged, report.remote))


def pull(repo: Repository, remote: str | None = None, *, force: bool = False,
         artifacts: bool = False, media: bool = False, prune: bool = True) -> PullReport:
    """Fetch, then fast-forward (or create) local refs; ``force`` also takes diverged ones.

    Refs the remote deleted are deleted here when unchanged here (``prune=False``: kept).
    ``artifacts``: download the blobs of the artifact versions pulled into the local cache
    now, rather than when first used; ``media``: the same for the runs pulled (the blobs
    their media, console output and saved code name), so that they read offline.
    """
    remote = transport.check_remote(repo, remote or transport.default_remote(repo))
    seen = mirror.glance(repo, remote)
    if seen.same is not None:
        return _unchanged(repo, remote, seen.same, fetch_only=False)
    report, fetched = _fetch(repo, remote, seen.listed, fetch_only=False, prune=prune)
    live_runs = _live_runs(repo)
    plan = plan_pull(report.states, report.deleted, live_runs, force=force)
    if not force:
        plan = dataclasses.replace(plan, rebased=rebase_plans(repo, plan, report.states,
                                                              fetched.before))
    refused = _apply(repo, fetched, plan, report.states + _same_aliases(fetched))
    locks = {ref: lock for ref in refused if (lock := refs.lock_file(repo, ref)) is not None}
    report = settle(report, plan, refused, {ref: str(lock) for ref, lock in locks.items()})
    report = dataclasses.replace(report, pruned=_prune(repo, report.deleted, fetched.before),
                                 advice=rewrite_advice(repo, report.diverged, report.remote))
    eager = [s for s in [*report.updated, *report.forced]
             if (artifacts and s.ref.startswith((namespace.ARTIFACTS, namespace.ALIASES)))
             or (media and s.ref.startswith(namespace.RUNS))]
    if eager:
        report = dataclasses.replace(report, blobs_downloaded=_download(eager, repo))
    return report


def _unchanged(repo: Repository, remote: str, same: str, *, fetch_only: bool) -> PullReport:
    """The report of a sync with nothing to do (``mirror.glance``): every ref (``same``, a
    line each) the same on both sides; nothing fetched, written or deleted."""
    return PullReport(remote, transport.display_url(repo, remote),
                      mirror.mirror_key(repo, remote), fetch_only=fetch_only,
                      up_to_date=same.count("\n"))


def _same_aliases(fetched: mirror.Refreshed) -> tuple[RefState, ...]:
    """Aliases the same on both sides: their agreed value is recorded (``agreed_values``)."""
    local = fetched.before.local
    return tuple(RefState(ref, sha, sha, Standing.SAME) for ref, sha in fetched.after.items()
                 if ref.startswith(namespace.ALIASES) and local.get(ref) == sha)


def plan_pull(states: Sequence[RefState], deleted: Sequence[RefState], live_runs: set[str],
              *, force: bool) -> PullPlan:
    """Which compared refs move here: the remote's where it is ahead (or diverged, with
    ``force``), except runs live here; and the remote's deletions."""
    def moves(s: RefState) -> bool:
        return s.standing in TAKE or (force and s.standing is Standing.DIVERGED)

    live = tuple(s for s in states if moves(s) and _is_live(s.ref, live_runs))
    held = {s.ref for s in live}
    return PullPlan(
        updated=tuple(s for s in states if s.standing in TAKE and s.ref not in held),
        forced=tuple(s for s in states
                     if force and s.standing is Standing.DIVERGED and s.ref not in held),
        live=live, deleted=tuple(deleted))


def rebase_plans(repo: Repository, plan: PullPlan, states: Sequence[RefState],
                 before: mirror.Snapshot) -> tuple[Rebased, ...]:
    """For each diverged artifact whose local versions were made since the last sync (or
    that took a removal made on the remote): the rebased chain (objects written, no ref
    moved), and where its local aliases go. Aliases the pull moves anyway (the remote moved
    or deleted them) are left to it."""
    from gittrack.artifacts.rewrite import plan_rebase

    diverged = [s for s in states if s.standing is Standing.DIVERGED and s.local and s.remote
                and s.ref.startswith(namespace.ARTIFACTS)]
    if not diverged:
        return ()
    taken = {s.ref for s in [*plan.updated, *plan.forced, *plan.deleted]}
    found = []
    for state in diverged:
        name = state.ref[len(namespace.ARTIFACTS):]
        assert state.local is not None
        rebase = plan_rebase(repo, name, state.local, CommitId(str(state.remote)),
                             before.seen(state.ref))
        if rebase is None:
            continue
        prefix = f"{namespace.ALIASES}{name}/"
        old = {ref: sha for ref, sha in before.local.items()
               if ref.startswith(prefix) and ref not in taken}
        moved = {ref: (sha, rebase.target(sha)) for ref, sha in old.items()}
        found.append(Rebased(state, rebase, {ref: (a, b) for ref, (a, b) in moved.items()
                                             if a != b}))
    return tuple(found)


def agreed_values(states: Sequence[RefState], plan: PullPlan,
                  refused: Set[str]) -> list[tuple[str, str | None]]:
    """The value both sides hold now, for each ref that was the same or was moved (and not
    refused): aliases record it to tell later who moved them."""
    moved = {*plan.updated, *plan.forced}  # a set: `in` a list made this quadratic in the refs
    return [(s.ref, s.remote) for s in states
            if s.ref not in refused and (s.standing is Standing.SAME or s in moved)]


def settle(report: PullReport, plan: PullPlan, refused: Set[str],
           locks: Mapping[str, str]) -> PullReport:
    """The report of ``plan`` carried out, but for the ``refused`` local refs (those with a
    lock file, in ``locks``: ref → lock file)."""
    return dataclasses.replace(
        report, updated=tuple(s for s in plan.updated if s.ref not in refused),
        forced=tuple(s for s in plan.forced if s.ref not in refused),
        deleted=tuple(s for s in plan.deleted if s.ref not in refused),
        refused=tuple(sorted(refused - locks.keys())),
        locked=tuple(sorted(locks.items())), live=plan.live,
        rebased=tuple(r for r in plan.rebased if r.state.ref not in refused))


def _apply(repo: Repository, fetched: mirror.Refreshed, plan: PullPlan,
           states: Sequence[RefState]) -> set[str]:
    """The mirror and the local refs in one transaction: both land, or neither. Returns the
    local refs refused (they moved, or are locked)."""
    refused: set[str] = {u.name for u in mirror.write(repo, fetched, plan.moves())
                         if u.name.startswith(namespace.ROOT)}
    # Aliases: the value both sides hold now (after the local refs, so a refused one is not
    # recorded as agreed); the deleted refs' agreed values and tombstones go.
    key, before = fetched.key, fetched.before
    gone = [s.ref for s in plan.deleted if s.ref not in refused]
    agreed = agreed_values(states, plan, refused)
    localio.write_refs(repo, mirror.agree_updates(key, agreed, before.agreed)
                       + mirror.forget_updates(key, gone),
                       "the pulled refs are written; pull again to record what both sides "
                       "agree on")
    return refused


def _fetch(repo: Repository, remote: str, listed: str | None, *, fetch_only: bool,
           prune: bool) -> tuple[PullReport, mirror.Refreshed]:
    """The remote's refs (``listed``: as just read) fetched and compared; the mirror's
    ``updates`` not yet written."""
    fetched = mirror.look(repo, remote, listed)
    before = fetched.before
    local = before.local
    # A ref equal on both sides is only counted (most of them, in a large repository).
    differ = [(ref, sha) for ref, sha in fetched.after.items() if local.get(ref) != sha]
    states = tuple(compare(repo, ref, local.get(ref), sha, before.seen(ref))
                   for ref, sha in sorted(differ))
    deleted, kept = _deletions(repo, fetched, prune)
    return PullReport(remote, transport.display_url(repo, remote), fetched.key, states,
                      deleted=tuple(deleted), kept=tuple(kept), fetch_only=fetch_only,
                      up_to_date=len(fetched.after) - len(differ)), fetched


def _deletions(repo: Repository, fetched: mirror.Refreshed,
               prune: bool) -> tuple[list[RefState], list[Kept]]:
    """Local refs the remote had at the last sync and no longer has: to delete, or kept."""
    before, after = fetched.before, fetched.after
    live = _live_runs(repo)
    # Untrusted, every such ref is kept anyway: no ancestry walk for it.
    gone = [Gone(ref, sha, fetched.trusted and local_changes(repo, ref, sha, last),
                 _is_live(ref, live))
            for ref, sha in sorted((r, s) for r, s in before.local.items() if r not in after)
            if (last := before.seen(ref)) is not None and not ref.startswith(namespace.CODE)]
    return plan_deletions(gone, trusted=fetched.trusted, prune=prune)


@dataclasses.dataclass(frozen=True, slots=True)
class Gone:
    """A local ref the remote had at the last sync and has no longer."""

    ref: str
    local: CommitId
    changed: bool
    """It holds something the remote did not have (``compare.local_changes``)."""
    live: bool
    """A run being written here."""


def plan_deletions(gone: Sequence[Gone], *, trusted: bool,
                   prune: bool) -> tuple[list[RefState], list[Kept]]:
    """Which refs the remote deleted are deleted here, and why the others are kept."""
    deleted: list[RefState] = []
    kept: list[Kept] = []
    for ref in gone:
        why = keep_reason(ref, trusted=trusted, prune=prune)
        if why is None:
            deleted.append(RefState(ref.ref, ref.local, None, Standing.DELETED))
        else:
            kept.append(Kept(ref.ref, ref.local, why))
    return deleted, kept


def keep_reason(ref: Gone, *, trusted: bool, prune: bool) -> KeptBecause | None:
    """Why a ref the remote no longer has stays here (``None``: it goes), first reason first:
    a mirror that cannot tell a deletion, local changes, ``--no-prune``, a live run."""
    if not trusted:
        return KeptBecause.UNSURE
    if ref.changed:
        return KeptBecause.LOCAL_CHANGES
    if not prune:
        return KeptBecause.NO_PRUNE
    return KeptBecause.LIVE if ref.live else None


def _live_runs(repo: Repository) -> set[str]:
    """Runs with a write-ahead log in any worktree of this repository: being written, or
    crashed and not yet recovered."""
    from gittrack.runs.liveness import unfolded_runs

    return set(unfolded_runs(repo))


def _is_live(ref: str, live: set[str]) -> bool:
    return ref.startswith(namespace.RUNS) and ref[len(namespace.RUNS):] in live


def _prune(repo: Repository, deleted: Sequence[RefState], before: mirror.Snapshot) -> int:
    """The objects only the deleted refs (and their old mirror refs) reached, as ``rm`` does;
    the run cache forgets deleted runs."""
    if not deleted:
        return 0
    from gittrack.artifacts import manifest_cache
    from gittrack.git import prune
    from gittrack.runs import index, store

    tips = [str(s.local) for s in deleted]
    tips += [before.mirrored[s.ref] for s in deleted if s.ref in before.mirrored]
    removed = prune.prune_unreachable(repo, tips).removed
    manifest_cache.forget_missing(repo)
    if any(s.ref.startswith(namespace.RUNS) for s in deleted):
        index.forget(repo, store.list_runs(repo))
    return removed


def _download(states: list[RefState], repo: Repository) -> int:
    """Every blob the commits just pulled name (artifact versions, run media, console and
    code), into the local cache: those the cache has are not downloaded again."""
    from gittrack.storage.project import open_storage
    from gittrack.storage.reachability import names_blobs, needed_entries
    from gittrack.storage.transfers import parallel

    tips = [str(s.remote) for s in states if names_blobs(s.ref)]
    known = [str(s.local) for s in states if s.local and names_blobs(s.ref)]
    entries = list(needed_entries(repo, tips, stop=known).values())
    if not entries:
        return 0
    storage = open_storage(repo)
    parallel(lambda e: storage.cached(e, what=f"blob {e.path}"), entries,
             workers=storage.workers, label="downloading blobs", sizes=lambda e: e.size)
    return len(entries)
