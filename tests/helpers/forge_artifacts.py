"""Forged artifact commits, as a malicious (or broken) remote could serve them."""

from __future__ import annotations

from typing import Any

import pygit2
import yaml

from gittrack.artifacts.manifest import ManifestEntry, write_manifest
from gittrack.git import objects, refs
from gittrack.types import CommitId, RefName

ARTIFACTS = "refs/gittrack/artifacts/"
DIGEST = "ab" * 32


def good_doc(name: str = "model", **changes: Any) -> dict[str, Any]:
    """An ``artifact.yaml`` as gittrack writes it, with ``changes`` (``None`` drops a key)."""
    doc: dict[str, Any] = {
        "format": 1, "name": name, "type": "model", "version": 0, "description": None,
        "metadata": {}, "producer": None, "created_at": "2026-01-01T00:00:00.000000Z",
        "files": 1, "size": 1}
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None or k not in changes}


def forge(repo: pygit2.Repository, ref_name: str, doc: dict[str, Any] | bytes | None,
          entries: list[ManifestEntry] | bytes | None = None,
          parents: list[CommitId] | None = None) -> CommitId:
    """A commit with ``doc`` as ``artifact.yaml`` and ``entries`` as ``manifest.parquet``
    (default: one file, ``w.bin``), set as ``refs/gittrack/artifacts/<ref_name>``."""
    files: dict[str, bytes] = {}
    if doc is not None:
        files["artifact.yaml"] = doc if isinstance(doc, bytes) else yaml.safe_dump(doc).encode()
    if entries is None:
        entries = [ManifestEntry("w.bin", DIGEST, 1, DIGEST)]
    files["manifest.parquet"] = entries if isinstance(entries, bytes) else \
        write_manifest(entries)
    commit = objects.commit(repo, objects.write_tree(repo, None, files), parents or [], "forged")
    set_ref(repo, ARTIFACTS + ref_name, commit)
    return commit


def set_ref(repo: pygit2.Repository, ref: str, target: str) -> None:
    refs.update_ref(repo, RefName(ref), CommitId(target), refs.get_ref(repo, RefName(ref)))


__all__ = ["ARTIFACTS", "DIGEST", "forge", "good_doc", "set_ref"]
