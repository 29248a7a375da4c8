"""``gittrack fetch`` and ``gittrack pull``: the remote's refs into the mirror, then the local
refs fast-forwarded where that loses nothing.

The mirror (``refs/gittrack-remotes/<remote>/``) is written first and the local refs after,
each by compare-and-swap, so an interrupted pull leaves every local ref either as it was or
moved forward, and running it again completes it. A run or artifact whose histories diverged
is never overwritten: the remote's stays under the mirror ref, the local one is untouched,
until ``--force`` (which says what it replaces).
"""

from __future__ import annotations

import dataclasses

import pygit2

from gittrack.artifacts.reachability import referenced_entries
from gittrack.git import refs, transport
from gittrack.sync import mirror
from gittrack.sync.compare import RefState, Standing, compare, is_artifact
from gittrack.sync.selection import local_refs
from gittrack.types import CommitId, RefName

TAKE = (Standing.REMOTE_ONLY, Standing.BEHIND)


@dataclasses.dataclass(frozen=True, slots=True)
class PullReport:
    remote: str
    url: str
    key: str
    states: tuple[RefState, ...] = ()
    updated: tuple[RefState, ...] = ()
    forced: tuple[RefState, ...] = ()
    deleted_remotely: tuple[str, ...] = ()
    """Refs the remote no longer has that we last saw there: kept here, reported."""
    blobs_downloaded: int = 0
    fetch_only: bool = False

    def of(self, *standings: Standing) -> list[RefState]:
        return [s for s in self.states if s.standing in standings]

    @property
    def diverged(self) -> list[RefState]:
        forced = set(self.forced)
        return [s for s in self.of(Standing.DIVERGED) if s not in forced]


def fetch(repo: pygit2.Repository, remote: str | None = None) -> PullReport:
    """Update the mirror only, and say how each ref stands; no local ref moves."""
    return _fetch(repo, remote, fetch_only=True)


def pull(repo: pygit2.Repository, remote: str | None = None, *, force: bool = False,
         artifacts: bool = False) -> PullReport:
    """Fetch, then fast-forward (or create) local refs; ``force`` also takes diverged ones.

    ``artifacts``: download the blobs of the artifact versions pulled into the local cache
    now, rather than when first used.
    """
    report = _fetch(repo, remote, fetch_only=False)
    updated = [s for s in report.states if s.standing in TAKE]
    forced = [s for s in report.states if force and s.standing is Standing.DIVERGED]
    for state in [*updated, *forced]:
        assert state.remote is not None
        refs.update_ref(repo, RefName(state.ref), CommitId(state.remote), state.local)
    moved = {*updated, *forced}  # a set: `in` a list made this loop quadratic in the refs
    for state in report.states:
        if state in moved or state.standing is Standing.SAME:
            mirror.agree(repo, report.key, state.ref, state.remote)
    report = dataclasses.replace(report, updated=tuple(updated), forced=tuple(forced))
    if artifacts:
        report = dataclasses.replace(report, blobs_downloaded=_download([*updated, *forced],
                                                                        repo))
    return report


def _fetch(repo: pygit2.Repository, remote: str | None, *, fetch_only: bool) -> PullReport:
    remote = transport.check_remote(repo, remote or transport.default_remote(repo))
    key = mirror.mirror_key(repo, remote)
    before = mirror.last_seen(repo, key, mirror.read_mirror(repo, key))
    after = mirror.fetch_mirror(repo, remote)
    local = local_refs(repo)
    states = tuple(compare(repo, ref, local.get(ref), sha, before.get(ref))
                   for ref, sha in sorted(after.items()))
    gone = tuple(ref for ref in sorted(local)
                 if ref not in after and before.get(ref) == local[ref])
    return PullReport(remote, transport.remote_url(repo, remote), key, states,
                      deleted_remotely=gone, fetch_only=fetch_only)


def _download(states: list[RefState], repo: pygit2.Repository) -> int:
    """Every blob of the versions just pulled, into the local cache."""
    from gittrack.artifacts.project import open_storage
    from gittrack.artifacts.transfers import parallel

    tips = [str(s.remote) for s in states if is_artifact(s.ref)]
    known = [str(s.local) for s in states if s.local and is_artifact(s.ref)]
    entries = list(referenced_entries(repo, tips, stop=known).values())
    if not entries:
        return 0
    storage = open_storage(repo)
    parallel(lambda e: storage.cached(e, what=f"blob {e.path}"), entries,
             workers=storage.workers, label="downloading blobs", sizes=lambda e: e.size)
    return len(entries)

