"""Large artifacts made quickly: many versions of one artifact, one version of many files.

Both go through gittrack's own write path below hashing (``BlobVault.put_files`` for the
bytes, ``versions.commit_version`` for each version): the manifest, ``artifact.yaml`` and the
commit are what ``log_artifact`` writes. Only the files of a large version are not written
and stored one by one: their digests are computed from their contents in memory, and only
the few a test downloads are stored, so 1,000,000 of them take seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import Draft, VersionInfo, commit_version
from gittrack.git.repo import discover
from gittrack.storage.project import open_storage


def content(i: int) -> bytes:
    """The bytes of the ``i``-th file of a large version (each its own digest, as real files)."""
    return f"file {i}\n".encode()


def file_name(i: int) -> str:
    """The ``i``-th file of a large version: 1,000 files per folder, in path order."""
    return f"shard-{i // 1000:04d}/file-{i:07d}.bin"


def many_files(repo_path: Path, name: str, count: int, *, scratch: Path,
               stored: Iterable[int] = ()) -> VersionInfo:
    """One version of ``name`` listing ``count`` files (``file_name(i)`` holding
    ``content(i)``), each with its own sha256, as a real manifest has (about 70 bytes a row
    compressed: 70 MB for 1,000,000 files); only the files numbered in ``stored`` have their
    blob in the store (the others could not be downloaded)."""
    repo = discover(repo_path)
    vault = open_storage(repo)
    wanted = sorted(set(stored))
    for i in wanted:
        (scratch / f"{name}-{i}").write_bytes(content(i))
    put = vault.put_files([(file_name(i), str(scratch / f"{name}-{i}")) for i in wanted],
                          what=f"artifact {name}") if wanted else []
    blobs = {entry.digest: entry.blob for entry in put}
    entries = []
    for i in range(count):
        data = content(i)
        digest = hashlib.sha256(data).hexdigest()
        entries.append(ManifestEntry(file_name(i), digest, len(data),
                                     blobs.get(digest) or vault.blob_name(digest)))
    info, _ = commit_version(repo, Draft(name, "dataset", None, {}, None), entries)
    return info


def many_versions(repo_path: Path, name: str, count: int, *,
                  scratch: Path) -> list[VersionInfo]:
    """``count`` versions of ``name``, oldest first: version ``v`` holds ``data.txt``
    (``version v``) and ``fixed.txt``, the same in each."""
    repo = discover(repo_path)
    folder = scratch / name
    folder.mkdir(parents=True, exist_ok=True)
    files = [("fixed.txt", folder / "fixed.txt")]
    files[0][1].write_bytes(b"unchanged\n")
    for v in range(count):
        (folder / f"{v}.txt").write_text(f"version {v}\n")
        files.append((f"{v}.txt", folder / f"{v}.txt"))
    fixed, *stored = open_storage(repo).put_files(files, what=f"artifact {name}")
    made = []
    for v, entry in enumerate(stored):
        rows = [fixed, ManifestEntry("data.txt", entry.digest, entry.size, entry.blob)]
        draft = Draft(name, "dataset", None, {"v": v}, None)
        made.append(commit_version(repo, draft, rows)[0])
    return made
