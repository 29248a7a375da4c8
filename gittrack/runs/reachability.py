"""Runs as a kind of ref that names stored blobs (``storage.reachability``): media, console
output and saved code are blobs of the project's store, named by the rows of the Parquet files
under a run commit's ``media/``, ``console/`` and ``code/`` (``layout.STORED_FILE_DIRS``).

Every such file has the columns of an artifact manifest (path, digest, size, blob, ref), so
the manifest's readers read it. The walk visits thousands of checkpoints of one run that share
most of these folders: a folder or file already read in the same walk is not read again
(``objects.new_files``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gittrack.git import namespace
from gittrack.types import CommitId

if TYPE_CHECKING:  # registering (at ``import gittrack.runs``) loads no git, no Parquet
    from gittrack.git.repo import Repository
    from gittrack.storage.entry import ManifestEntry
    from gittrack.storage.reachability import Reader


class RunFiles:
    """Run refs: their commits name blobs in the Parquet files of the stored-file folders."""

    def owns(self, ref: str) -> bool:
        return ref.startswith(namespace.RUNS)

    def reader(self, repo: Repository, *, marks_only: bool) -> Reader:
        seen: set[str] = set()

        def read(commit: CommitId) -> Iterable[ManifestEntry]:
            return list(stored_entries(repo, commit, seen, marks_only=marks_only))

        return read


RUN_FILES = RunFiles()


def stored_entries(repo: Repository, commit: CommitId, seen: set[str] | None = None, *,
                   marks_only: bool = False) -> Iterable[ManifestEntry]:
    """The stored files ``commit``'s stored-file folders name (none for an artifact version
    commit or a run without media, console or code). ``seen``: object ids already read in
    this walk, skipped and extended."""
    from gittrack.artifacts.manifest import read_manifest, read_marks
    from gittrack.git import objects
    from gittrack.runs import layout

    seen = set() if seen is None else seen
    tree = objects.commit_tree(repo, commit)
    read = read_marks if marks_only else read_manifest
    for directory in layout.STORED_FILE_DIRS:
        for path, _blob in objects.new_files(repo, tree, directory, seen):
            if not path.endswith(".parquet"):
                continue
            data = objects.read_file(repo, tree, path)
            if data is not None:
                yield from read(data, what=f"{path} of commit {commit[:12]}")
