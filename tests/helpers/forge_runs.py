"""Run commits made by hand, as a malicious or broken remote could send them."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pygit2

from gittrack.git import objects
from gittrack.runs import layout
from gittrack.storage.entry import ManifestEntry
from gittrack.types import BlobName, CommitId, Digest, RunId

RUN_YAML = ("format: 1\nid: {id}\nname: {id}\nstate: finished\n"
            "created_at: '2026-01-01T00:00:0{n}.0Z'\n")


def run_yaml(run_id: str, n: int = 0) -> bytes:
    return RUN_YAML.format(id=run_id, n=n).encode()


def forge_run(path: Path, run_id: str, files: dict[str, bytes]) -> CommitId:
    """A one-commit run under ``run_id``'s ref with exactly ``files`` ("dir/name" paths make
    folders: ``{"run.yaml/x": b""}`` puts a folder where run.yaml should be)."""
    repo = pygit2.Repository(str(path))
    tree = objects.write_tree(repo, None, files)
    commit = objects.commit(repo, tree, [], "forged")
    repo.references.create(layout.run_ref(RunId(run_id)), commit, force=True)
    return commit


def delete_loose_object(path: Path, oid: str) -> None:
    """Remove one object from a repository whose objects are loose (a fresh test repo)."""
    (path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()


def as_v1(path: Path, run_id: str) -> CommitId:
    """Turn a run into what gittrack 1 wrote: a new checkpoint on its ref whose chunks are
    flat in ``history/`` and ``histograms/`` and whose ``run.yaml`` says ``format: 1`` (the run
    must hold only unmerged chunks, one number each, as a v1 run's)."""
    repo = pygit2.Repository(str(path))
    ref = layout.run_ref(RunId(run_id))
    head = repo.references[ref].peel(pygit2.Commit)
    files: dict[str, objects.FileContent] = {}
    for folder in (layout.HISTORY_DIR, layout.HISTOGRAMS_DIR):
        if folder not in head.tree:
            continue
        for level in repo[head.tree[folder].id]:
            files[f"{folder}/{level.name}"] = None
            for entry in repo[level.id]:
                assert "-" not in entry.name, "a merged chunk has no v1 shape"
                files[f"{folder}/{entry.name}"] = objects.Existing(str(entry.id))
    files[layout.RUN_YAML] = head.tree[layout.RUN_YAML].data.replace(b"format: 2\n",
                                                                     b"format: 1\n")
    tree = objects.write_tree(repo, head.tree, files)
    commit = objects.commit(repo, tree, [CommitId(str(head.id))], "as gittrack 1 wrote it")
    repo.references.create(ref, commit, force=True)
    return commit


def stored_file_entry(path: str, content: bytes) -> ManifestEntry:
    """The entry a public project's store gives ``content`` stored as ``path`` (its blob is
    named by the content's digest), without storing anything."""
    digest = hashlib.sha256(content).hexdigest()
    return ManifestEntry(path, Digest(digest), len(content), BlobName(digest))


def forge_stored_files(path: Path, run_id: str, entries: list[ManifestEntry], *,
                       file: str = layout.chunk_path(layout.MEDIA_DIR, "0", 1, 1),
                       n: int = 0) -> CommitId:
    """A one-commit finished run whose ``file`` (a Parquet file under ``media/``,
    ``console/`` or ``code/``) has the manifest columns naming ``entries``: what a remote
    could send, or a run whose blobs were lost."""
    from gittrack.artifacts.manifest import write_manifest

    return forge_run(path, run_id, {layout.RUN_YAML: run_yaml(run_id, n),
                                    file: write_manifest(entries)})



def media_index(items: list[tuple[ManifestEntry, dict[str, Any]]]) -> bytes:
    """A media index chunk listing each entry with the index columns of its dict (``key``,
    ``step``, ``type``, ``item``, ``format``...; ``media_index.MediaRow``'s fields), whatever
    its path: what a remote could send."""
    import pyarrow.parquet as pq

    from gittrack.runs.media_index import MediaRow, table_of

    sink = io.BytesIO()
    pq.write_table(table_of([MediaRow(entry=e, **row) for e, row in items]), sink)
    return sink.getvalue()

def forge_media_run(path: Path, run_id: str,
                    items: list[tuple[ManifestEntry, dict[str, Any]]]) -> CommitId:
    """A one-commit finished run whose media index (one chunk) lists ``items``."""
    return forge_run(path, run_id, {
        layout.RUN_YAML: run_yaml(run_id),
        layout.chunk_path(layout.MEDIA_DIR, "0", 1, 1): media_index(items)})
