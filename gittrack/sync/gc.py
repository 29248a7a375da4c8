"""``gittrack gc``: blobs no remaining run or artifact names, removed from the store.

Mark: every blob that a commit reachable from the local refs (``refs/gittrack/*``) names, as
every kind of ref that stores blobs reads it (``storage.reachability``), and from the mirrors
of the remotes' refs (``refs/gittrack-remotes/*``, the given remote fetched first), so a
teammate's pushed work is never collected because this clone had not fetched it. Sweep: the
store's blobs not marked and older than the grace period (a teammate's push uploads blobs
*before* it pushes the refs naming them), stale temporary uploads, and plaintext copies in the
local cache that nothing names any more.

Code refs (``refs/gittrack/code/<sha>``, ``runs.coderefs``) are collected here too: one no run
needs — here or in a remote's mirror — is deleted here, and with a remote, one that none of
that remote's runs needs is deleted there (one push, leased on its value); a run's missing
code ref is added when its commit is here. They are never walked for blobs (they name the
user's code history, which stores none).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gittrack.blobs.names import is_plaintext
from gittrack.blobs.store import BlobInfo
from gittrack.errors import FormatError, KeyMissingError, UsageError
from gittrack.git import namespace, refs, transport
from gittrack.git.repo import Repository
from gittrack.storage import reachability
from gittrack.storage.entry import ManifestEntry, stored
from gittrack.storage.project import has_keyring, open_storage
from gittrack.storage.vault import BlobVault
from gittrack.sync import localio, mirror
from gittrack.sync.delete import RefChange, push_changes
from gittrack.types import BlobName, CommitId, Digest, RefName, RunId

if TYPE_CHECKING:
    from gittrack.sync.purge import Finished

DEFAULT_GRACE = 24 * 3600.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


@dataclasses.dataclass(frozen=True, slots=True)
class GcReport:
    removed: tuple[BlobInfo, ...]
    young: int  # unreferenced but within the grace period: kept
    temps: int  # stale temporary uploads removed
    cache: int  # local cache entries removed
    marked: int  # blobs still referenced
    roots: tuple[str, ...]  # where marking started: "local", and each remote's mirror
    dry_run: bool = False
    finished: tuple[Finished, ...] = ()
    """Interrupted purges finished first (``sync/purge.py``)."""
    code: CodeRefReport = dataclasses.field(default_factory=lambda: CodeRefReport())

    @property
    def size(self) -> int:
        return sum(b.size for b in self.removed)


@dataclasses.dataclass(frozen=True, slots=True)
class CodeRefReport:
    """What gc did with the code refs (``runs.coderefs``): commits whose ref was deleted here,
    added here, deleted on the remote."""

    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    remote_removed: tuple[str, ...] = ()


def parse_duration(text: str) -> float:
    """``"30m"``, ``"12h"``, ``"7d"``, ``"2w"``, ``"90s"`` or ``"0"`` → seconds."""
    match = _DURATION.match(str(text))
    if match is None:
        raise UsageError(f"{text!r} is not a duration: use a number with s, m, h, d or w "
                         "(30m, 12h, 7d), or 0")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def mark_roots(repo: Repository, remote: str | None) -> tuple[list[str], tuple[str, ...]]:
    """The commits to mark from, after fetching ``remote``'s refs into its mirror."""
    if remote is not None:
        mirror.fetch_mirror(repo, transport.check_remote(repo, remote))
    tips: list[str] = [sha for ref, sha in refs.list_refs(repo, namespace.ROOT).items()
                       if not ref.startswith(namespace.CODE)]
    keys = set()
    for name, sha in refs.list_refs(repo, namespace.MIRROR_ROOT).items():
        key, _, rest = name[len(namespace.MIRROR_ROOT):].partition("/")
        keys.add(key)
        if not (namespace.ROOT + rest).startswith(namespace.CODE):
            tips.append(sha)
    return tips, ("local", *sorted(keys))


def marked(repo: Repository, storage: BlobVault,
           tips: Iterable[str]) -> tuple[set[BlobName], set[Digest]]:
    """The mark phase: (blob names, digests) that the versions reachable from ``tips`` need
    (read leniently: a forged version can only make this keep more)."""
    try:
        return live_names(storage, reachability.stored_files(repo, tips, marks_only=True),
                          has_keyring(repo))
    except FormatError as exc:
        raise FormatError(
            f"{exc}; nothing was deleted: what that version names cannot be known. "
            "`git for-each-ref --contains COMMIT refs/gittrack/` names its ref; "
            "`gittrack artifact rm NAME` removes it") from None


def live_names(storage: BlobVault, entries: Iterable[ManifestEntry],
               private_project: bool) -> tuple[set[BlobName], set[Digest]]:
    """(blob names, digests) still needed. An encrypted blob may live under the newest key's
    name instead of the manifest's (``keys rm --reencrypt``): both are kept."""
    blobs: set[BlobName] = set()
    digests: set[Digest] = set()
    encrypted: set[Digest] = set()
    for entry in entries:
        if entry.blob is None:
            continue
        blob, digest = stored(entry)
        blobs.add(blob)
        digests.add(digest)
        if not is_plaintext(blob, digest):
            encrypted.add(digest)
    if encrypted:
        try:
            blobs.update(storage.newest_name(d) for d in encrypted)
        except KeyMissingError as exc:
            if private_project:
                raise KeyMissingError(f"gc must know which blobs the project key names: {exc}") \
                    from None
    return blobs, digests


def collect(repo: Repository, *, remote: str | None = None,
            grace: float = DEFAULT_GRACE, dry_run: bool = False,
            storage: BlobVault | None = None, now: float | None = None) -> GcReport:
    """Remove what nothing references from the store and the local cache (see module doc)."""
    from gittrack.sync.purge import finish_interrupted  # purge builds on gc's marking

    finished = () if dry_run else finish_interrupted(repo)
    storage = storage or open_storage(repo)
    tips, roots = mark_roots(repo, remote)
    code = collect_code_refs(repo, remote, dry_run)
    blobs, digests = marked(repo, storage, tips)
    cutoff = (time.time() if now is None else now) - grace
    removed, young = _sweep_store(storage, blobs, cutoff if grace > 0 else None, dry_run)
    temps = _sweep_temps(storage, cutoff, dry_run)
    cache = _sweep_cache(storage, digests, dry_run)
    if not dry_run:
        _sweep_stat_cache(storage, digests)
    return GcReport(tuple(removed), young, temps, cache, len(blobs), roots, dry_run, finished,
                    code)


def collect_code_refs(repo: Repository, remote: str | None, dry_run: bool) -> CodeRefReport:
    """Delete the code refs no run needs (here: no run here or in a mirror; on ``remote``, its
    mirror just fetched: none of its runs), add those missing for runs here."""
    from gittrack.runs import coderefs

    mirrored: dict[str, dict[str, CommitId]] = {}
    for name, sha in refs.list_refs(repo, namespace.MIRROR_ROOT).items():
        key, _, rest = name[len(namespace.MIRROR_ROOT):].partition("/")
        mirrored.setdefault(key, {})[namespace.ROOT + rest] = sha
    here = set(refs.list_refs(repo, namespace.RUNS).values())
    # the runs here from the run cache; a mirror's run at another head, from its run.yaml
    needed = {c for c in coderefs.code_commits(repo).values() if c is not None}
    needed |= coderefs.needed_by(repo, {sha for there in mirrored.values()
                                        for ref, sha in there.items()
                                        if ref.startswith(namespace.RUNS) and sha not in here})
    plan = coderefs.plan(repo, needed, coderefs.local(repo))
    remote_drop: list[RefChange] = []
    if remote is not None:
        there = mirrored.get(mirror.mirror_key(repo, remote), {})
        heads = {s for r, s in there.items() if r.startswith(namespace.RUNS)}
        by_head = {sha: c for sha, c in _code_by_head(repo).items() if sha in heads}
        needed = {c for c in by_head.values() if c is not None}
        needed |= coderefs.needed_by(repo, heads - by_head.keys())
        remote_drop = [RefChange(RefName(ref), sha) for ref, sha in sorted(there.items())
                       if ref.startswith(namespace.CODE)
                       and namespace.code_commit(ref) not in needed]
    if not dry_run:
        if remote_drop:
            push_changes(repo, transport.check_remote(repo, remote or ""), remote_drop)
        localio.write_refs(repo, coderefs.updates(plan))
    return CodeRefReport(
        removed=tuple(str(namespace.code_commit(r)) for r in sorted(plan.drop)),
        added=plan.add,
        remote_removed=tuple(str(namespace.code_commit(c.ref)) for c in remote_drop))


def _code_by_head(repo: Repository) -> dict[CommitId, str | None]:
    """Each local run's head → its code commit (the run cache)."""
    from gittrack.runs import coderefs

    heads = refs.list_refs(repo, namespace.RUNS)
    by_run = coderefs.code_commits(repo)
    return {sha: by_run.get(RunId(ref[len(namespace.RUNS):])) for ref, sha in heads.items()}


def _sweep_store(storage: BlobVault, live: set[BlobName], cutoff: float | None,
                 dry_run: bool) -> tuple[list[BlobInfo], int]:
    """``cutoff`` None: no grace at all (purge, ``--grace 0``)."""
    removed, young = [], 0
    for blob in storage.iter_blobs():
        if blob.name in live:
            continue
        # A blob of unknown age could be a push in flight: only "no grace" removes it.
        if cutoff is not None and (blob.modified is None or blob.modified > cutoff):
            young += 1
            continue
        removed.append(blob)
        if not dry_run:
            storage.delete(blob.name)
    return sorted(removed, key=lambda b: b.name), young


def _sweep_temps(storage: BlobVault, cutoff: float, dry_run: bool) -> int:
    """Uploads that died half-way (temporary names beside their blob) older than the grace."""
    count = 0
    for path, when in storage.temps():
        if when is not None and when <= cutoff:
            count += 1
            if not dry_run:
                storage.delete_temp(path)
    return count


def _sweep_stat_cache(storage: BlobVault, live: set[Digest]) -> None:
    """Source paths hashed to a digest nothing names any more (its artifact was removed):
    they are the user's folder names, not to be kept (``docs/security.md``). A file being
    logged right now only costs a second hash."""
    known = storage.source_digests()
    if known:
        storage.forget_sources(known - live)


def _sweep_cache(storage: BlobVault, live: set[Digest], dry_run: bool) -> int:
    count = 0
    for path, digest in storage.cache_entries():
        if digest not in live:
            count += 1
            if not dry_run:
                with localio.repository_io(path, "the local cache keeps it"):
                    path.unlink(missing_ok=True)
    return count
