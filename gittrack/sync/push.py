"""``gittrack push``: blobs first, then the refs in one atomic ``git push``.

Order makes an interruption harmless: blobs are uploaded before any ref names them (an
orphan blob is reclaimed by gc), the refs move all together or not at all (``--atomic``),
and the mirror is written last (a stale mirror only costs a comparison next time).

What git is asked to push (``refspecs``): runs by one glob, ``refs/gittrack/runs/*``, with
a negative refspec (``^ref``) for each run held back; artifact and alias refs by the exact
commit compared (``<id>:<ref>``), since the blobs uploaded are those of that commit. One
explicit refspec per ref made git's matching quadratic (a 1,000-run push took 1.7× the
glob's time here; 10,000 runs would spend about 80 s in it); a glob is linear. Run and
artifact refs only grow, so git's fast-forward rule refuses a lost update by itself; refs that
may move anywhere — aliases, and refs replaced with ``--force`` — carry a lease on the value
``ls-remote`` showed. A ref someone else moved meanwhile is refused, and push compares again
and retries.

Blobs are checked per ref (``blobsync.upload_for_refs``): a run (or an artifact, an alias)
naming a blob that is neither in the store nor on this machine, or whose upload failed, is
held back like a diverged ref — left out of the push, its remote ref untouched, named in
``PushReport.held_back`` with the file at fault — and every other ref goes. Once the blob is
back, the next push sends it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from gittrack.errors import PushRejectedError
from gittrack.git import history, namespace, transport
from gittrack.git.repo import Repository
from gittrack.storage.reachability import names_blobs
from gittrack.sync import localio, mirror
from gittrack.sync.advice import rewrite_advice
from gittrack.sync.blobsync import BlobReport, HeldBack, check_for_refs, upload_for_refs
from gittrack.sync.compare import RefState, Standing, compare
from gittrack.sync.selection import select
from gittrack.types import CommitId

SEND = (Standing.LOCAL_ONLY, Standing.AHEAD)
HELD = (Standing.BEHIND, Standing.DIVERGED, Standing.DELETED)
_ATTEMPTS = 3
# Rejections that mean "the remote moved under us", worth comparing again and retrying.
_RACES = ("stale info", "fetch first", "non-fast-forward", "lock", "already exists")


@dataclasses.dataclass(frozen=True, slots=True)
class PushReport:
    remote: str
    url: str
    sent: tuple[RefState, ...] = ()
    held: tuple[RefState, ...] = ()
    """Refs not sent: the remote has commits we do not (pull first), histories diverged, or
    the remote deleted the ref since the last sync."""
    forced: tuple[RefState, ...] = ()
    up_to_date: int = 0
    blobs: BlobReport = dataclasses.field(default_factory=BlobReport)
    advice: tuple[str, ...] = ()
    """For held artifacts that diverged because versions were removed on one side: which,
    and the command that follows (``sync.advice``)."""

    @property
    def held_back(self) -> tuple[HeldBack, ...]:
        """Refs not sent because a blob they name could not be put in the store."""
        return self.blobs.held_back


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    key: str
    report: PushReport
    send: list[RefState]
    held: list[RefState]
    agreed: dict[str, str]
    everything: bool
    """Every local ref was chosen (no RUN... given): runs can go by glob."""


@dataclasses.dataclass(frozen=True, slots=True)
class PushDecision:
    """What a push does with the compared refs (``decide``): a pure decision."""

    send: tuple[RefState, ...] = ()
    held: tuple[RefState, ...] = ()
    """Not sent (none with ``force``: those are sent and ``forced``)."""
    forced: tuple[RefState, ...] = ()
    same: tuple[RefState, ...] = ()


def push(repo: Repository, remote: str | None = None, runs: Sequence[str] = (), *,
         force: bool = False, no_verify: bool = False, dry_run: bool = False,
         glanced: mirror.Glance | None = None) -> PushReport:
    """Push the selected runs (default: every run, artifact and alias) to ``remote``.

    ``dry_run``: the report of what would be sent; nothing is written, here or there.
    ``glanced``: ``mirror.glance`` of this remote, just made by the caller (not made again)."""
    remote = transport.check_remote(repo, remote or transport.default_remote(repo))
    listed = glanced.listed if glanced is not None else None
    if not runs and glanced is None:
        seen = mirror.glance(repo, remote)
        if seen.same is not None:  # nothing to send or learn: no ref compared one by one
            return PushReport(remote, transport.display_url(repo, remote),
                              up_to_date=seen.same.count("\n"))
        listed = seen.listed
    for attempt in range(_ATTEMPTS):
        plan = _plan(repo, remote, runs, force, learn=not dry_run,
                     listed=listed if attempt == 0 else None)
        if not plan.send:
            return plan.report
        try:
            return _send(repo, remote, plan, no_verify, dry_run=dry_run)
        except PushRejectedError as exc:
            if attempt + 1 == _ATTEMPTS or not _is_race(str(exc)):
                raise
    raise AssertionError("unreachable")


def _plan(repo: Repository, remote: str, runs: Sequence[str], force: bool, *,
          learn: bool, listed: str | None = None) -> _Plan:
    """List and compare, decide, and (``learn``) let the mirror learn the refs both sides
    hold; the report of what is to be sent. ``listed``: the remote's listing, just read."""
    key = mirror.mirror_key(repo, remote)
    before = mirror.snapshot(repo, key)
    chosen = select(repo, runs, before.local)
    url = mirror.mirror_url(repo, remote)
    on_remote, trusted, seen = _remote_view(repo, remote, key, url, before, listed)
    # A ref equal on both sides is only counted (and learnt by the mirror if it lacks it):
    # with 100,000 runs, a comparison object per ref was most of a no-op push.
    equal = [ref for ref, sha in chosen.items() if on_remote.get(ref) == sha]
    differ = sorted(ref for ref, sha in chosen.items() if on_remote.get(ref) != sha)
    states = [compare(repo, ref, chosen[ref], on_remote.get(ref), seen.get(ref))
              for ref in differ]
    decision = decide(states, force=force)
    if not force:
        decision = hold_aliases(repo, decision, on_remote)
    if learn:
        _remember(repo, key, url, to_learn(_same(equal, chosen, before), before), before,
                  None if trusted else on_remote)
    diverged = [s for s in decision.held if s.standing is Standing.DIVERGED]
    report = PushReport(remote, transport.display_url(repo, remote), decision.send,
                        decision.held, decision.forced, len(equal),
                        advice=rewrite_advice(repo, diverged, remote))
    return _Plan(key, report, list(decision.send), list(decision.held), dict(before.agreed),
                 not runs)


def decide(states: Sequence[RefState], *, force: bool) -> PushDecision:
    """Send what is new or ahead; hold what is behind, diverged or deleted on the remote,
    unless ``force`` sends it too."""
    send = tuple(s for s in states if s.standing in SEND or (force and s.standing in HELD)
                 or _code_again(s))
    held = tuple(s for s in states if s.standing in HELD and not _code_again(s))
    return PushDecision(send=send, held=() if force else held,
                        forced=tuple(s for s in send if s.standing in HELD),
                        same=tuple(s for s in states if s.standing is Standing.SAME))


def _code_again(state: RefState) -> bool:
    """A code ref the remote deleted (a teammate's ``gc`` found no run there needing it): sent
    again, since a run here needs it. It names one commit, never moves and holds no blob, so
    sending it back undoes nothing of the teammate's."""
    return state.standing is Standing.DELETED and state.ref.startswith(namespace.CODE)

def hold_aliases(repo: Repository, decision: PushDecision,
                 on_remote: Mapping[str, str]) -> PushDecision:
    """Aliases naming a version of an artifact held back (diverged: a teammate logged
    versions meanwhile) that the remote's chain lacks are held with it: sent now, they would
    name on the remote a version it does not have. ``gittrack pull`` rebases the versions and
    moves the aliases; the next push sends both."""
    held = {s.ref[len(namespace.ARTIFACTS):] for s in decision.held
            if s.ref.startswith(namespace.ARTIFACTS)}
    if not held:
        return decision

    def off_chain(state: RefState) -> bool:
        name = state.ref[len(namespace.ALIASES):].partition("/")[0]
        if not state.ref.startswith(namespace.ALIASES) or name not in held or not state.local:
            return False
        tip = on_remote.get(namespace.ARTIFACTS + name)
        return tip is None or not history.exists(repo, tip) or not history.reaches(
            repo, tip, state.local)

    stay = tuple(s for s in decision.send if off_chain(s))
    if not stay:
        return decision
    return dataclasses.replace(decision, send=tuple(s for s in decision.send if s not in stay),
                               held=(*decision.held, *stay))


def _same(equal: Sequence[str], chosen: Mapping[str, CommitId],
          before: mirror.Snapshot) -> list[RefState]:
    """The equal refs ``to_learn`` may keep (not yet in the mirror at that value, or
    aliases), as states: the others are only counted."""
    mirrored = before.mirrored
    return [RefState(ref, chosen[ref], chosen[ref], Standing.SAME) for ref in equal
            if mirrored.get(ref) != chosen[ref] or ref.startswith(namespace.ALIASES)]


def to_learn(same: Sequence[RefState], before: mirror.Snapshot) -> list[RefState]:
    """Of the refs equal on both sides, those the mirror does not hold at that value yet (an
    alias also needs its agreed value)."""
    return [s for s in same if before.mirrored.get(s.ref) != s.local
            or (s.ref.startswith(namespace.ALIASES) and before.agreed.get(s.ref) != s.local)]


def deleted_on_remote(repo: Repository, remote: str,
                      sent: Mapping[str, CommitId]) -> list[RefState]:
    """Of the refs ``sent`` (a ``git push`` about to create them there), those the remote
    deleted since the last sync: the same comparison ``push`` makes (one ``ls-remote``)."""
    key = mirror.mirror_key(repo, remote)
    before = mirror.snapshot(repo, key)
    url = mirror.mirror_url(repo, remote)
    on_remote, _, seen = _remote_view(repo, remote, key, url, before)
    states = [compare(repo, ref, sha, on_remote.get(ref), seen.get(ref))
              for ref, sha in sorted(sent.items())]
    return [s for s in states if s.standing is Standing.DELETED]


def _remote_view(repo: Repository, remote: str, key: str, url: str, before: mirror.Snapshot,
                 listed: str | None = None) -> tuple[dict[str, str], bool, dict[str, CommitId]]:
    """The remote's refs (``listed``: as just read), whether the mirror can tell deletions,
    and what each ref was on the remote at the last sync (only refs it still has, when it
    cannot)."""
    on_remote, marked = mirror.remote_refs(repo, remote, listed)
    trusted = mirror.trusts(repo, key, url, before.mirrored, on_remote, marked)
    seen = (before.last_seen() if trusted
            else {r: s for r, s in before.last_seen().items() if r in on_remote})
    elsewhere = mirror.known_elsewhere(repo, key, marked)
    seen = {**{r: s for r, s in elsewhere.items() if r not in on_remote}, **seen}
    return on_remote, trusted, seen


def _send(repo: Repository, remote: str, plan: _Plan, no_verify: bool, *,
          dry_run: bool = False) -> PushReport:
    """Upload the blobs, then push the refs whose blobs are all in the store: a ref with a
    blob that could not be put there is held back (not sent, its remote ref untouched).

    ``dry_run``: the same checks, nothing done: the store is asked which blobs it lacks (a
    ref naming one found nowhere is held back, named), and ``git push --dry-run`` makes git's
    own checks of the refs (fast-forward, leases) against the remote's refs now; a rejection
    raises as the push would. The remote's server hooks do not run in a dry run."""
    remote_versions = [s.remote for s in plan.send if s.remote and names_blobs(s.ref)]
    tips = {s.ref: str(s.local) for s in plan.send if names_blobs(s.ref)}
    known = [r for r in remote_versions if r]
    blobs = (check_for_refs(repo, tips, remote_has=known) if dry_run
             else upload_for_refs(repo, tips, remote_has=known))
    back = {h.ref for h in blobs.held_back}
    sent = [s for s in plan.send if s.ref not in back]
    report = dataclasses.replace(
        plan.report, sent=tuple(sent), forced=tuple(s for s in plan.report.forced
                                                     if s.ref not in back), blobs=blobs)
    if not sent:
        return report
    specs = refspecs(sent, [*plan.held, *(s for s in plan.send if s.ref in back)],
                     everything=plan.everything)
    result = transport.push(repo, remote, specs, atomic=True, no_verify=no_verify,
                            leases=leases(sent), dry_run=dry_run)
    if dry_run:
        return report
    landed = {*result.updated, *result.up_to_date}
    localio.write_refs(repo, mirror.record_updates(
        plan.key, [(s.ref, s.local) for s in sent if s.ref in landed], plan.agreed),
        f"the push landed; `gittrack pull {remote}` records it here")
    return report


def refspecs(send: Sequence[RefState], held: Sequence[RefState], *,
             everything: bool) -> list[str]:
    """A glob for the runs (minus those ``held`` back), ``<id>:<ref>`` for the rest; the glob
    only when ``everything`` local was chosen (no RUN... given)."""
    by_glob = everything and any(_glob_run(s) for s in send)
    specs = [f"{namespace.RUNS}*:{namespace.RUNS}*"] if by_glob else []
    specs += [f"^{s.ref}" for s in held if by_glob and s.ref.startswith(namespace.RUNS)]
    specs += [f"{s.local}:{s.ref}" for s in send if not (by_glob and _glob_run(s))]
    return specs


def leases(send: Sequence[RefState]) -> dict[str, str | None]:
    """Leases only where git's own fast-forward rule does not protect the remote: refs we
    force (or send back after a deletion), and aliases, which move anywhere."""
    return {s.ref: s.remote for s in send
            if s.standing in HELD or s.ref.startswith(namespace.ALIASES)}


def _glob_run(state: RefState) -> bool:
    """A run the glob sends: fast-forward or new (one replaced needs its lease and commit)."""
    return state.ref.startswith(namespace.RUNS) and state.standing in SEND


def _remember(repo: Repository, key: str, url: str, same: list[RefState],
              before: mirror.Snapshot, reset: Mapping[str, str] | None) -> None:
    """Refs equal on both sides: the mirror learns them (aliases compare against it). An
    untrusted mirror (``reset``: the remote's refs) first forgets what the remote lacks, and
    from then on is this URL's."""
    updates = mirror.reset_updates(key, before, reset) if reset is not None else []
    updates += mirror.record_updates(key, [(s.ref, s.local) for s in same], before.agreed)
    if updates:
        localio.write_refs(repo, updates)
    mirror.remember_url(repo, key, url)


def _is_race(message: str) -> bool:
    return any(word in message for word in _RACES)
