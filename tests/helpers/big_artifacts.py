"""Large artifacts made quickly: many versions of one artifact, one version of many files.

Both go through gittrack's own write path below hashing (``BlobVault.put_files`` for the
bytes, ``versions.commit_version`` for each version): the manifest, ``artifact.yaml`` and the
commit are what ``log_artifact`` writes. Only the files are not on disk one by one: the
files of a large version share one stored blob (content-addressed, as identical files do),
so 1,000,000 of them take seconds, not the time of writing and hashing a million files.
"""

from __future__ import annotations

from pathlib import Path

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import Draft, VersionInfo, commit_version
from gittrack.git.repo import discover
from gittrack.storage.project import open_storage

CONTENT = b"the same bytes in every file of a large version\n"


def file_name(i: int) -> str:
    """The ``i``-th file of a large version: 1,000 files per folder, in path order."""
    return f"shard-{i // 1000:04d}/file-{i:07d}.bin"


def many_files(repo_path: Path, name: str, count: int, *,
               scratch: Path) -> VersionInfo:
    """One version of ``name`` listing ``count`` files (``file_name(i)``), all ``CONTENT``."""
    repo = discover(repo_path)
    source = scratch / f"{name}.bin"
    source.write_bytes(CONTENT)
    [stored] = open_storage(repo).put_files([("one", str(source))], what=f"artifact {name}")
    entries = [ManifestEntry(file_name(i), stored.digest, stored.size, stored.blob)
               for i in range(count)]
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
