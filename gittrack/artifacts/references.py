"""External objects recorded by URI and checksum (``Artifact.add_reference``), not copied.

A local file (``file://``) is hashed with sha256, like a stored file. A remote object is not
read: its size and the checksum its store keeps (an S3 ETag, a GCS md5, ...) are recorded, as
``etag:<value>``; a store that keeps none gets fsspec's token of the object's info. Fetching a
reference later checks the same value (``gittrack.storage.references``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gittrack.artifacts.artifact import PlannedReference
from gittrack.errors import StorageError, UsageError
from gittrack.storage.entry import ManifestEntry, check_entry_path
from gittrack.storage.references import (
    OptionsFor,
    filesystem,
    is_local,
    local_path,
    remote_checksum,
)
from gittrack.types import Checksum, Digest


def resolve_reference(ref: PlannedReference, options_for: OptionsFor) -> list[ManifestEntry]:
    """The manifest rows of a reference: one for an object, one per object under a folder."""
    fs, path = filesystem(ref.uri, options_for)
    try:
        fs.invalidate_cache(path)  # fsspec reuses filesystems: their listings may be old
        info = fs.info(path)
        if info.get("type") != "directory":
            return [_entry(fs, ref.name, ref.uri, info)]
        found = fs.find(path, detail=True)
    except FileNotFoundError:
        raise UsageError(f"reference {ref.uri} does not exist") from None
    except OSError as exc:
        raise StorageError(f"cannot read the reference {ref.uri}: {exc}") from None
    root = path.rstrip("/") + "/"
    entries = []
    for child, child_info in sorted(found.items()):
        if child_info.get("type") == "directory":
            continue
        name = check_entry_path(f"{ref.name}/{child[len(root):]}", what="name")
        entries.append(_entry(fs, name, fs.unstrip_protocol(child), child_info))
    if not entries:
        raise UsageError(f"reference {ref.uri} is an empty folder")
    return entries


def _entry(fs: Any, name: str, uri: str, info: Mapping[str, Any]) -> ManifestEntry:
    size = int(info.get("size") or 0)
    digest: Digest | Checksum  # a local file's content, or the store's checksum of a remote one
    if is_local(fs):
        from gittrack.blobs.hashing import hash_file

        digest, size = hash_file(Path(local_path(fs, uri)))
    else:
        digest = remote_checksum(fs, info)
    return ManifestEntry(path=name, digest=digest, size=size, blob=None, ref=uri)


