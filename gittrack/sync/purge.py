"""``gittrack purge RUN``: the run deleted everywhere, now — here, on the remote, and the
artifact versions it produced that nothing else uses, with their blobs, without a grace period.

Policy (``docs/decisions.md``): an artifact the run logged goes with it only if every version
of it was produced by this run and no remaining run used or logged any of them; otherwise it
stays (it is someone else's input too) and the report says so. Blobs are removed only if they
were named by what was purged and nothing remaining — here or in the remote's refs, fetched
first — names them; a full ``gittrack gc`` is not run, so blobs of teammates' pushes in flight
are never touched.
"""

from __future__ import annotations

import dataclasses

import pygit2

from gittrack.artifacts import aliases, versions
from gittrack.artifacts.project import open_storage
from gittrack.artifacts.reachability import manifest_entries
from gittrack.runs.lineage import artifact_specs
from gittrack.runs.view import RunView, all_runs
from gittrack.sync import gc
from gittrack.sync.delete import DeleteReport, artifact_changes, delete_runs
from gittrack.types import RunId


@dataclasses.dataclass(frozen=True, slots=True)
class PurgePlan:
    run: RunId
    artifacts: tuple[str, ...]  # whole artifacts removed with the run
    kept: tuple[str, ...]  # versions it logged that stay, with the reason


@dataclasses.dataclass(frozen=True, slots=True)
class PurgeReport:
    plan: PurgePlan
    refs: DeleteReport
    blobs: tuple[str, ...]  # blob names removed from the store
    cache: int  # local cache entries removed


def plan(repo: pygit2.Repository, view: RunView) -> PurgePlan:
    """What purging ``view`` removes, before anything is removed."""
    others = [v for v in all_runs(repo) if v.id != view.id]
    inputs = {s for v in others for role in ("used", "logged")
              for s in artifact_specs(v.metadata, role)}
    removed, kept = [], []
    for name in versions.list_artifacts(repo):
        infos = [versions.read_info(repo, c) for c in versions.history(repo, name)]
        mine = [i for i in infos if i.producer == view.id]
        if not mine:
            continue
        if len(mine) < len(infos):
            kept += [f"{i.spec} (the artifact has versions of other runs)" for i in mine]
        elif any(i.spec in inputs for i in infos):
            kept += [f"{i.spec} (used or logged by another run)" for i in mine if i.spec in inputs]
        else:
            removed.append(name)
    return PurgePlan(view.id, tuple(removed), tuple(kept))


def purge(repo: pygit2.Repository, view: RunView, *, remote: str | None) -> PurgeReport:
    """Carry out ``plan(repo, view)``: refs (one push), objects, then the freed blobs."""
    what = plan(repo, view)
    storage = open_storage(repo)
    heads = [c for name in what.artifacts if (c := versions.head(repo, name)) is not None]
    candidates = list(manifest_entries(repo, heads))
    changes = [c for name in what.artifacts for c in artifact_changes(repo, name)]
    report = delete_runs(repo, [view.id], remote=remote, also=changes,
                         remote_prefixes=[aliases.alias_ref(n, "") for n in what.artifacts])
    tips, _ = gc.mark_roots(repo, remote)
    live, digests = gc.live_names(storage, manifest_entries(repo, tips), gc.has_keys(repo))
    doomed, _ = gc.live_names(storage, candidates, private_project=False)
    gone = sorted(doomed - live)
    for name in gone:
        storage.store.delete(name)
    freed = {e.digest for e in candidates} - digests
    for digest in freed:
        storage.cache.remove(digest)
    storage.stat_cache.forget_digests(freed)  # source paths of what was purged
    return PurgeReport(what, report, tuple(gone), len(freed))
