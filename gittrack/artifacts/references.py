"""External objects recorded by URI and checksum (``Artifact.add_reference``), not copied.

A local file (``file://``) is hashed with sha256, like a stored file. A remote object is not
read: its size and the checksum its store keeps (an S3 ETag, a GCS md5, ...) are recorded, as
``etag:<value>``; a store that keeps none gets fsspec's token of the object's info. Fetching a
reference later checks the same value, so a changed or replaced object is reported instead of
silently giving other bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gittrack.artifacts.artifact import PlannedReference
from gittrack.artifacts.manifest import ManifestEntry, check_entry_path
from gittrack.artifacts.materialize import copy_stream, temp_beside
from gittrack.atomic import replacing
from gittrack.blobs.backends import no_room, reason
from gittrack.errors import StorageError, UsageError
from gittrack.urls import strip_credentials_in

OptionsFor = Callable[[str], Mapping[str, Any]]

_CHECKSUM_KEYS = (("ETag", "etag"), ("etag", "etag"), ("md5Hash", "md5"), ("md5", "md5"),
                  ("checksum", "checksum"), ("crc32c", "crc32c"))


def _filesystem(uri: str, options_for: OptionsFor) -> tuple[Any, str]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(uri, **dict(options_for(uri)))
    except Exception as exc:  # backends' constructors raise anything (TypeError, OSError...)
        raise StorageError(strip_credentials_in(
            f"cannot open the reference {uri}: {reason(exc)}")) from None
    return fs, str(path)


def resolve_reference(ref: PlannedReference, options_for: OptionsFor) -> list[ManifestEntry]:
    """The manifest rows of a reference: one for an object, one per object under a folder."""
    fs, path = _filesystem(ref.uri, options_for)
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
    digest: str  # a local file's Digest, or the store's checksum of a remote one (etag:...)
    if _is_local(fs):
        from gittrack.blobs.hashing import hash_file

        digest, size = hash_file(Path(_local_path(fs, uri)))
    else:
        digest = remote_checksum(fs, info)
    return ManifestEntry(path=name, digest=digest, size=size, blob=None, ref=uri)


def remote_checksum(fs: Any, info: Mapping[str, Any]) -> str:
    for key, kind in _CHECKSUM_KEYS:
        value = info.get(key)
        if value:
            text = value.hex() if isinstance(value, (bytes, bytearray)) else str(value)
            return f"{kind}:{text.strip(chr(34))}"
    settings = info.get("content_settings")  # Azure (adlfs)
    md5 = getattr(settings, "content_md5", None) or (
        settings.get("content_md5") if isinstance(settings, Mapping) else None)
    if md5:
        return f"md5:{bytes(md5).hex()}"
    return f"fsspec:{fs.ukey(info['name'])}"


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol
    return "file" in (protocol if isinstance(protocol, (tuple, list)) else (protocol,))


def _local_path(fs: Any, uri: str) -> str:
    return str(fs._strip_protocol(uri))


def fetch_reference(entry: ManifestEntry, dst: Path, options_for: OptionsFor, *,
                    what: str) -> None:
    """Copy the referenced object to ``dst`` if it still is what was recorded."""
    assert entry.ref is not None
    fs, path = _filesystem(entry.ref, options_for)
    sha256 = ":" not in entry.digest
    try:
        if not sha256:
            fs.invalidate_cache(path)
            now = remote_checksum(fs, fs.info(path))
            if now != entry.digest:
                raise StorageError(
                    f"{what}: the referenced object {entry.ref} changed since it was logged "
                    f"({entry.digest} then, {now} now)"
                )
        with temp_beside(dst) as temp, replacing(dst, temp):
            with fs.open(path, "rb") as src, temp.open("wb") as out:
                got, size = copy_stream(src, out)
            if (sha256 and got != entry.digest) or size != entry.size:
                raise StorageError(
                    f"{what}: the referenced object {entry.ref} changed since it was logged"
                )
    except FileNotFoundError:
        raise StorageError(f"{what}: the referenced object {entry.ref} is gone") from None
    except OSError as exc:
        if no_room(exc):  # this disk is full: the write failed, not the reference
            raise StorageError(f"{what}: cannot write {dst}: {reason(exc)}") from None
        raise StorageError(f"{what}: cannot read {entry.ref}: {exc}") from None
