"""``gittrack push``: blobs first, then the refs in one atomic ``git push``.

Order makes an interruption harmless: blobs are uploaded before any ref names them (an
orphan blob is reclaimed by gc), the refs move all together or not at all (``--atomic``),
and the mirror is written last (a stale mirror only costs a comparison next time). Every ref
is pushed with a lease on the value ``ls-remote`` showed, so a ref someone else moved
meanwhile is refused rather than overwritten; running the push again completes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pygit2

from gittrack.errors import PushRejectedError
from gittrack.git import transport
from gittrack.sync import mirror
from gittrack.sync.blobsync import BlobReport, upload_missing
from gittrack.sync.compare import RefState, Standing, compare, is_artifact
from gittrack.sync.selection import select

SEND = (Standing.LOCAL_ONLY, Standing.AHEAD)
HELD = (Standing.BEHIND, Standing.DIVERGED)
_ATTEMPTS = 3
# Rejections that mean "the remote moved under us", worth comparing again and retrying.
_RACES = ("stale info", "fetch first", "non-fast-forward", "lock", "already exists")


@dataclasses.dataclass(frozen=True, slots=True)
class PushReport:
    remote: str
    url: str
    sent: tuple[RefState, ...] = ()
    held: tuple[RefState, ...] = ()
    """Refs not sent: the remote has commits we do not (pull first), or histories diverged."""
    forced: tuple[RefState, ...] = ()
    up_to_date: int = 0
    blobs: BlobReport = dataclasses.field(default_factory=BlobReport)


def push(repo: pygit2.Repository, remote: str | None = None, runs: Sequence[str] = (), *,
         force: bool = False, no_verify: bool = False, dry_run: bool = False) -> PushReport:
    """Push the selected runs (default: every run, artifact and alias) to ``remote``."""
    remote = transport.check_remote(repo, remote or transport.default_remote(repo))
    chosen = select(repo, runs)
    for attempt in range(_ATTEMPTS):
        report, plan = _plan(repo, remote, chosen, force)
        if dry_run or not plan:
            return report
        try:
            return _send(repo, remote, report, plan, no_verify)
        except PushRejectedError as exc:
            if attempt + 1 == _ATTEMPTS or not _is_race(str(exc)):
                raise
    raise AssertionError("unreachable")


def _plan(repo: pygit2.Repository, remote: str, chosen: Mapping[str, str],
          force: bool) -> tuple[PushReport, list[RefState]]:
    key = mirror.mirror_key(repo, remote)
    on_remote = transport.ls_remote(repo, remote)
    seen = mirror.last_seen(repo, key, mirror.read_mirror(repo, key))
    states = [compare(repo, ref, sha, on_remote.get(ref), seen.get(ref))  # type: ignore[arg-type]
              for ref, sha in sorted(chosen.items())]
    same = [s for s in states if s.standing is Standing.SAME]
    _remember(repo, key, same, seen)
    plan = [s for s in states if s.standing in SEND or (force and s.standing in HELD)]
    held = () if force else tuple(s for s in states if s.standing in HELD)
    forced = tuple(s for s in plan if s.standing in HELD)
    report = PushReport(remote, transport.remote_url(repo, remote), tuple(plan), held, forced,
                        len(same))
    return report, plan


def _send(repo: pygit2.Repository, remote: str, report: PushReport, plan: list[RefState],
          no_verify: bool) -> PushReport:
    remote_versions = [s.remote for s in plan if s.remote and is_artifact(s.ref)]
    blobs = upload_missing(repo, [str(s.local) for s in plan if is_artifact(s.ref)],
                           remote_has=[r for r in remote_versions if r])
    refspecs = [f"{s.ref}:{s.ref}" for s in plan]
    # Leases only where git's own fast-forward rule does not protect the remote: refs we
    # force, and aliases (which move anywhere). A lease costs git a scan of every remote ref,
    # so leasing all of them made a 1,000-run push quadratic.
    leases = {s.ref: s.remote for s in plan
              if s.standing in HELD or s.ref.startswith(mirror.ALIASES)}
    transport.push(repo, remote, refspecs, atomic=True, no_verify=no_verify, leases=leases)
    key = mirror.mirror_key(repo, remote)
    for state in plan:
        mirror.record(repo, key, state.ref, state.local)
    return dataclasses.replace(report, blobs=blobs)


def _remember(repo: pygit2.Repository, key: str, same: list[RefState],
              seen: Mapping[str, str]) -> None:
    """Refs equal on both sides: the mirror learns them (aliases compare against it)."""
    for state in same:
        if seen.get(state.ref) != state.local:
            mirror.record(repo, key, state.ref, state.local)


def _is_race(message: str) -> bool:
    return any(word in message for word in _RACES)
