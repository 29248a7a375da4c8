"""Fetching an external object recorded by URI and checksum (``Artifact.add_reference``):
copied into place only if it still is what was recorded, so a changed or replaced object is
reported instead of silently giving other bytes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gittrack.blobs.backends import no_room, reason
from gittrack.errors import StorageError
from gittrack.storage.entry import ManifestEntry
from gittrack.storage.materialize import copy_stream, replacing
from gittrack.types import Checksum
from gittrack.urls import strip_credentials_in

OptionsFor = Callable[[str], Mapping[str, Any]]
"""fsspec storage options for a URI."""

_CHECKSUM_KEYS = (("ETag", "etag"), ("etag", "etag"), ("md5Hash", "md5"), ("md5", "md5"),
                  ("checksum", "checksum"), ("crc32c", "crc32c"))


def filesystem(uri: str, options_for: OptionsFor) -> tuple[Any, str]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(uri, **dict(options_for(uri)))
    except Exception as exc:  # backends' constructors raise anything (TypeError, OSError...)
        raise StorageError(strip_credentials_in(
            f"cannot open the reference {uri}: {reason(exc)}")) from None
    return fs, str(path)


def remote_checksum(fs: Any, info: Mapping[str, Any]) -> Checksum:
    for key, kind in _CHECKSUM_KEYS:
        value = info.get(key)
        if value:
            text = value.hex() if isinstance(value, (bytes, bytearray)) else str(value)
            return Checksum(f"{kind}:{text.strip(chr(34))}")
    settings = info.get("content_settings")  # Azure (adlfs)
    md5 = getattr(settings, "content_md5", None) or (
        settings.get("content_md5") if isinstance(settings, Mapping) else None)
    if md5:
        return Checksum(f"md5:{bytes(md5).hex()}")
    return Checksum(f"fsspec:{fs.ukey(info['name'])}")


def is_local(fs: Any) -> bool:
    protocol = fs.protocol
    return "file" in (protocol if isinstance(protocol, (tuple, list)) else (protocol,))


def local_path(fs: Any, uri: str) -> str:
    return str(fs._strip_protocol(uri))


def fetch_reference(entry: ManifestEntry, dst: Path, options_for: OptionsFor, *,
                    what: str) -> None:
    """Copy the referenced object to ``dst`` if it still is what was recorded."""
    assert entry.ref is not None
    fs, path = filesystem(entry.ref, options_for)
    sha256 = entry.sha256 is not None
    try:
        if not sha256:
            fs.invalidate_cache(path)
            now = remote_checksum(fs, fs.info(path))
            if now != entry.digest:
                raise StorageError(
                    f"{what}: the referenced object {entry.ref} changed since it was logged "
                    f"({entry.digest} then, {now} now)"
                )
        with replacing(dst) as temp:
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
