"""``gittrack purge RUN``: the run deleted everywhere, now — here, on the remote, and the
artifact versions it produced that nothing else uses, with their blobs, without a grace period.

Policy (``docs/decisions.md``): an artifact the run logged goes with it only if every version
of it was produced by this run and no remaining run used or logged any of them (a run's
record names its version by the commit it recorded, renumbered or not); otherwise it
stays (it is someone else's input too) and the report says so. Blobs are removed only if they
were named by what was purged and nothing remaining — here or in the remote's refs, fetched
first — names them; a full ``gittrack gc`` is not run, so blobs of teammates' pushes in flight
are never touched.

A purge killed half-way (after the refs went, before the blobs) must not leave the ciphertext
in the store and the plaintext in the local cache with nothing left to name them: before any
ref is deleted, a journal (``.git/gittrack/purges/<hash of RUN>.json``, fsynced) records the
run, the remote, the blobs and digests it may remove and the commits whose objects it prunes.
The next ``purge`` (any arguments, or none) or ``gc`` finishes what a journal describes
(``finish_interrupted``) — the whole purge again while the run's ref is still here — and
removes it. The process working on a journal holds a lock on it, so another never finishes a
purge still running.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gittrack import atomic
from gittrack.artifacts import aliases, manifest_cache, versions
from gittrack.blobs.names import check_name, is_digest
from gittrack.errors import GittrackError, GittrackWarning, RepositoryError
from gittrack.git import faults, prune, transport
from gittrack.git.repo import Repository, common_dir
from gittrack.runs import index, store
from gittrack.runs.lineage import ROLES, records
from gittrack.runs.view import RunView, all_runs
from gittrack.storage.project import open_storage
from gittrack.storage.reachability import stored_files
from gittrack.storage.vault import BlobVault
from gittrack.sync import gc
from gittrack.sync.delete import DeleteReport, artifact_changes, delete_runs
from gittrack.types import BlobName, Digest, RunId


@dataclasses.dataclass(frozen=True, slots=True)
class PurgePlan:
    run: RunId
    artifacts: tuple[str, ...]  # whole artifacts removed with the run
    kept: tuple[str, ...]  # versions it logged that stay, with the reason


@dataclasses.dataclass(frozen=True, slots=True)
class Finished:
    """An interrupted purge, finished."""

    run: RunId
    name: str
    blobs: tuple[BlobName, ...]  # blob names removed from the store now
    cache: int  # local cache entries removed now


@dataclasses.dataclass(frozen=True, slots=True)
class PurgeReport:
    plan: PurgePlan
    refs: DeleteReport
    blobs: tuple[BlobName, ...]  # blob names removed from the store
    cache: int  # local cache entries removed
    finished: tuple[Finished, ...] = ()
    """Interrupted purges finished first."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Journal:
    run: RunId
    name: str
    remote: str | None
    blobs: tuple[BlobName, ...]  # blob names the purge may remove (those nothing else names)
    digests: tuple[Digest, ...]  # their digests: local cache and stat cache entries
    tips: tuple[str, ...]  # commits deleted: their objects are pruned

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> _Journal:
        data = json.loads(text)
        return cls(RunId(str(data["run"])), str(data["name"]), data["remote"],
                   tuple(check_name(b) for b in data["blobs"]),
                   # a remote reference's checksum, listed by an older gittrack, is no cache key
                   tuple(d for d in data["digests"] if is_digest(d)), tuple(data["tips"]))


def plan(repo: Repository, view: RunView) -> PurgePlan:
    """What purging ``view`` removes, before anything is removed.

    Another run that cannot be read (damaged, or forged by a remote) is reported and may be
    using any of ``view``'s artifacts: they are kept, and the plan says why (`gittrack rm`
    of that run lifts it)."""
    unreadable: list[RunId] = []
    others = [v for v in all_runs(repo, on_error=lambda rid, _: unreadable.append(rid))
              if v.id != view.id]
    unreadable = [rid for rid in unreadable if rid != view.id]
    lineage = [record for v in others for role in ROLES for record in records(v.metadata, role)]
    removed, kept = [], []
    for name in versions.list_artifacts(repo):
        try:
            infos = [versions.read_info(repo, c, name) for c in versions.history(repo, name)]
        except GittrackError as exc:  # forged or damaged: not known to be this run's
            warnings.warn(f"skipping {versions.artifact_ref(name)}: {exc}", GittrackWarning,
                          stacklevel=2)
            continue
        mine = [i for i in infos if i.producer == view.id]
        if not mine:
            continue
        if len(mine) == len(infos) and not _manifests_readable(repo, name):
            continue  # forged or damaged: what it names cannot be known, so it stays
        if unreadable:
            kept += [f"{i.spec} (run {unreadable[0]} cannot be read and may use it)"
                     for i in mine]
        elif len(mine) < len(infos):
            kept += [f"{i.spec} (the artifact has versions of other runs)" for i in mine]
        elif used := _used(repo, name, infos, lineage):
            kept += [f"{i.spec} (used or logged by another run)" for i in mine
                     if i.commit in used]
        else:
            removed.append(name)
    return PurgePlan(view.id, tuple(removed), tuple(kept))


def _used(repo: Repository, name: str, infos: list[versions.VersionInfo],
          lineage: list[tuple[str, tuple[str, str | None] | None]]) -> set[str]:
    """The commits of ``infos`` (artifact ``name``'s versions) that the other runs' records
    name: by the commit a record holds (``aliases.resolve_recorded``: a version a pull
    renumbered is still the one the run used), by the label for runs recorded before
    commits were. A record naming no version here falls back to its label: a purge keeps
    rather than guesses."""
    by_label = {i.spec: i.commit for i in infos}
    found: set[str] = set()
    for spec, recorded in lineage:
        if spec.partition(":")[0] != name:
            continue
        if recorded is not None:
            try:
                found.add(aliases.resolve_recorded(repo, spec, *recorded)[0])
                continue
            except GittrackError:
                pass
        if spec in by_label:
            found.add(by_label[spec])
    return found


def _manifests_readable(repo: Repository, name: str) -> bool:
    """Whether every manifest of artifact ``name`` can be read (its blobs would be purged
    with it); a warning naming the ref otherwise, as for an unreadable ``artifact.yaml``."""
    head = versions.head(repo, name)
    try:
        for _ in stored_files(repo, [head] if head is not None else []):
            pass
    except GittrackError as exc:
        warnings.warn(f"skipping {versions.artifact_ref(name)}: {exc}", GittrackWarning,
                      stacklevel=3)
        return False
    return True


def purge(repo: Repository, view: RunView, *, remote: str | None) -> PurgeReport:
    """Carry out ``plan(repo, view)``: refs (one push), objects, then the freed blobs.
    Interrupted purges are finished first (``PurgeReport.finished``)."""
    finished = finish_interrupted(repo)
    if remote is not None:
        transport.check_remote(repo, remote)  # a bad one is refused before the journal
    what = plan(repo, view)
    storage = open_storage(repo)
    heads = [c for name in what.artifacts if (c := versions.head(repo, name)) is not None]
    run_head = store.head(repo, view.id)  # its own media, console and saved code
    candidates = list(stored_files(repo, [*heads, *([run_head] if run_head else [])]))
    changes = [c for name in what.artifacts for c in artifact_changes(repo, name)]
    doomed, _ = gc.live_names(storage, candidates, private_project=False)
    if candidates:  # a version no one can read stops the purge before anything is deleted
        gc.marked(repo, storage, gc.mark_roots(repo, None)[0])
    head = store.head(repo, view.id)
    journal = _Journal(view.id, view.readable_name() or "", remote, tuple(sorted(doomed)),
                       tuple(sorted({d for e in candidates if (d := e.sha256) is not None})),
                       tuple(c.old for c in changes) + ((head,) if head else ()))
    with _journal(repo, journal) as path:
        faults.point("purge.journal-written")
        try:
            report = delete_runs(repo, [view.id], remote=remote, also=changes, remote_prefixes=[
                aliases.alias_ref(n, "") for n in what.artifacts])
        except BaseException:
            # Refused before the run's ref went (the remote said no, the run is live, ...):
            # nothing to finish later, the error says what to do. Only a kill leaves it.
            if store.head(repo, view.id) is not None:
                path.unlink(missing_ok=True)
            raise
        faults.point("purge.refs-deleted")
        gone, freed = _free(repo, storage, journal)
        path.unlink()
    # as gc does: the code refs no run needs any more go, here and on the remote
    gc.collect_code_refs(repo, remote, dry_run=False)
    return PurgeReport(what, report, gone, freed, finished)


def finish_interrupted(repo: Repository) -> tuple[Finished, ...]:
    """Finish every purge a killed process left half-done (its journal is here and no live
    process holds it); ``()`` when there is none."""
    done = []
    for path in sorted(_journal_dir(repo).glob("*.json")):
        with _claimed(path) as handle:
            if handle is None:
                continue  # a purge in progress in another process
            done.append(_finish(repo, _Journal.from_json(handle.read()), path))
    return tuple(done)


def _finish(repo: Repository, journal: _Journal, path: Path) -> Finished:
    """The rest of ``journal``'s purge. Its run still here (killed before the refs went):
    the whole purge again, planned from the refs as they are now."""
    from gittrack.runs.resolve import resolve_run

    if store.head(repo, journal.run) is not None:
        path.unlink()  # purge writes its own, for the same run
        report = purge(repo, resolve_run(repo, journal.run, invalid_ok=True),
                       remote=journal.remote)
        return Finished(journal.run, journal.name, report.blobs, report.cache)
    prune.prune_unreachable(repo, journal.tips)  # no-op if it ran: the tips are gone
    manifest_cache.forget_missing(repo)
    index.forget(repo, store.list_runs(repo))
    gone, freed = _free(repo, open_storage(repo), journal)
    path.unlink()
    return Finished(journal.run, journal.name, gone, freed)


def _free(repo: Repository, storage: BlobVault,
          journal: _Journal) -> tuple[tuple[BlobName, ...], int]:
    """The journal's blobs and cache entries that nothing left names — here or in the
    remote's refs, fetched again — removed; returns (blob names, cache entries)."""
    if not journal.blobs and not journal.digests:
        return (), 0
    tips, _ = gc.mark_roots(repo, journal.remote)
    live, digests = gc.marked(repo, storage, tips)
    gone = sorted(set(journal.blobs) - live)
    for name in gone:
        storage.delete(name)
        faults.point("purge.blob-deleted")
    freed = set(journal.digests) - digests
    for digest in freed:
        storage.uncache(digest)
    storage.forget_sources(freed)  # source paths of what was purged
    return tuple(gone), len(freed)


def _journal_dir(repo: Repository) -> Path:
    """In the common git folder, with the refs it is about: a purge interrupted in one
    worktree is finished from any."""
    return common_dir(repo) / "gittrack" / "purges"


@contextlib.contextmanager
def _journal(repo: Repository, journal: _Journal) -> Iterator[Path]:
    """``journal`` written and fsynced (file and folder) before the block runs, and locked
    from before it has its name until the block ends; left behind if the block fails, for
    the next purge or gc to finish."""
    folder = _journal_dir(repo)
    path = folder / _journal_name(journal.run)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Not gittrack.atomic: its file is closed at the rename, and this one must stay open
        # (its flock held) from before the rename until the purge ends, with the folder fsynced.
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        handle = temp.open("w")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # before the name: nobody finishes it
            handle.write(journal.to_json())
            handle.flush()
            os.fsync(handle.fileno())
            temp.replace(path)
            atomic.fsync_dir(folder)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _unwritable(path, exc) from None
        yield path


def _journal_name(run: RunId) -> str:
    """A file name from the run id's hash: the id came from a ref name a remote may have
    forged (``nested/x``, ``..``), never a path."""
    return hashlib.sha256(run.encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".json"


def _unwritable(path: Path, exc: OSError) -> RepositoryError:
    return RepositoryError(f"cannot write the purge journal {path}: {exc.strerror or exc}; "
                           "nothing was deleted")


@contextlib.contextmanager
def _claimed(path: Path) -> Iterator[IO[str] | None]:
    """``path`` open and exclusively locked (``flock``: released when the process dies), or
    ``None`` if another process holds it or it is gone."""
    try:
        handle = path.open()
    except FileNotFoundError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield handle if path.exists() else None
