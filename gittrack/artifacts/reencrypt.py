"""``gittrack keys rm --reencrypt``: every stored blob rewritten under the newest project key.

Removing a member rotates the project key for new data; old blobs stay encrypted to the old
key, which the removed member may have kept. Re-encrypting rewrites each blob that any version
of any artifact names: decrypted (any project identity opens it), verified, encrypted to the
new recipient, stored under the new key's name, and only then the old copies are deleted.

Git history is not rewritten: old manifests keep naming the old blobs, and readers fall back
to the newest key's name for a blob that is gone (``BlobVault._get_blob``). The rewriting
of one blob is the storage's (``BlobVault.rewrap``); which blobs, is this module's. The work is
idempotent, so an interrupted run is finished by running it again
(``gittrack artifact reencrypt``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from gittrack.artifacts import versions
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.blobs.names import is_plaintext
from gittrack.git.repo import Repository
from gittrack.storage.entry import stored
from gittrack.storage.transfers import parallel
from gittrack.storage.vault import BlobVault
from gittrack.types import BlobName, Digest

if TYPE_CHECKING:
    from gittrack.crypto.keys import ProjectKeys


@dataclasses.dataclass(frozen=True, slots=True)
class ReencryptReport:
    rewritten: int
    current: int  # already under the newest key
    deleted: int  # old copies removed
    missing: tuple[Digest, ...] = ()  # digests found under no name (nothing to rewrite)

    def __str__(self) -> str:
        text = (f"re-encrypted {self.rewritten} blob(s) to the new project key "
                f"({self.current} already were); deleted {self.deleted} old copies")
        if self.missing:
            text += f"; {len(self.missing)} blob(s) were in no store and could not be rewritten"
        return text


def referenced_blobs(repo: Repository) -> dict[Digest, tuple[ManifestEntry, set[BlobName]]]:
    """Every encrypted blob any version names: digest → (an entry, every name it had)."""
    found: dict[Digest, tuple[ManifestEntry, set[BlobName]]] = {}
    for name in versions.list_artifacts(repo):
        for commit in versions.history(repo, name):
            for entry in versions.read_entries(repo, commit, name):
                if entry.blob is None:
                    continue  # a reference
                blob, digest = stored(entry)
                if not is_plaintext(blob, digest):  # not a plaintext blob from a public era
                    found.setdefault(digest, (entry, set()))[1].add(blob)
    return found


def reencrypt_all(
    repo: Repository, old_keys: ProjectKeys | None, new_keys: ProjectKeys,
    *, storage: BlobVault | None = None,
) -> ReencryptReport:
    """Rewrite every encrypted blob under ``new_keys``; delete the copies under old names.

    ``old_keys`` only adds one more name to look for (the manifests name the rest), so it may
    be ``None`` when finishing an interrupted run.
    """
    if storage is None:
        from gittrack.storage.project import open_storage

        storage = open_storage(repo, keys=new_keys)
    blobs = list(referenced_blobs(repo).values())

    def one(item: tuple[ManifestEntry, set[BlobName]]) -> tuple[str, int]:
        entry, names = item
        if old_keys is not None:
            names = names | {old_keys.blob_name(stored(entry)[1])}
        return storage.rewrap(entry, names, new_keys)

    results = parallel(one, blobs, workers=storage.workers, label="re-encrypting blobs",
                       sizes=lambda item: item[0].size)
    return ReencryptReport(
        rewritten=sum(status == "rewritten" for status, _ in results),
        current=sum(status == "current" for status, _ in results),
        deleted=sum(deleted for _, deleted in results),
        missing=tuple(stored(e)[1] for (e, _), (status, _) in zip(blobs, results, strict=True)
                      if status == "missing"),
    )
