"""What differs between fsspec backends, in one place: opening a URL, whether one upload is
atomic, how a transfer streams, the exceptions they raise, and how they report times.
"""

from __future__ import annotations

import errno
import inspect
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import fsspec
from fsspec.callbacks import Callback
from fsspec.core import split_protocol, url_to_fs

from gittrack.blobs import multipart
from gittrack.errors import StorageError
from gittrack.formats.display import is_number
from gittrack.urls import strip_credentials, strip_credentials_in

# Object stores commit an upload in one request: a PUT, or a multipart upload that becomes
# visible only when completed. Anything else (local, memory, sftp, ...) may show a file while
# it is written, so the store uploads to a temporary name and renames.
_ATOMIC_PUT = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})

_EXTRAS = {
    "s3": "gittrack[s3]",
    "s3a": "gittrack[s3]",
    "gs": "gittrack[gcs]",
    "gcs": "gittrack[gcs]",
    "az": "gittrack[azure]",
    "abfs": "gittrack[azure]",
    "abfss": "gittrack[azure]",
}

# Exception types of backends that do not (always) raise OSError, by module; looked up only
# among modules already imported, so naming them costs nothing.
_FOREIGN_ERRORS = {
    "botocore.exceptions": ("BotoCoreError", "ClientError"),
    "aiohttp": ("ClientError",),
    "fsspec.exceptions": ("FSTimeoutError",),
    "google.auth.exceptions": ("GoogleAuthError",),
    "azure.core.exceptions": ("AzureError",),
}


def open_url(url: str, options: Mapping[str, Any] | None) -> tuple[fsspec.AbstractFileSystem, str]:
    """``(filesystem, root)`` for ``url``; a plain path is a local folder."""
    protocol = split_protocol(url.split("::")[0])[0]
    if protocol is None:
        url = os.path.expanduser(url)
    elif protocol not in fsspec.available_protocols():
        known = ", ".join(sorted(p for p in fsspec.available_protocols() if len(p) > 1))
        raise StorageError(f"unknown storage protocol {protocol!r} in "
                           f"{strip_credentials(url)}; known: {known}")
    # Listings must not be cached: another process may add or delete a blob at any time.
    kwargs = {"use_listings_cache": False, **(options or {})}
    try:
        fs, root = url_to_fs(url, **kwargs)
    except ImportError as exc:
        hint = _EXTRAS.get(protocol or "")
        install = f"pip install '{hint}'" if hint else f"install it ({exc})"
        raise StorageError(f"storage {strip_credentials(url)} needs an optional package: "
                           f"{install}") from None
    except Exception as exc:  # backends' constructors raise anything (TypeError, OSError...)
        given = f" with the options {', '.join(sorted(map(str, options)))}" if options else ""
        raise StorageError(strip_credentials_in(
            f"cannot open storage {url}{given} (one of them may be wrong): {reason(exc)}"
            if given else f"cannot open storage {url}: {reason(exc)}")) from exc
    return fs, str(root)


def puts_atomically(fs: fsspec.AbstractFileSystem) -> bool:
    return any(p in _ATOMIC_PUT for p in _protocols(fs))


def put_object(
    fs: fsspec.AbstractFileSystem, local_path: Path, target: str, size: int, callback: Callback
) -> None:
    """One upload that readers see whole or not at all (``puts_atomically(fs)``).

    On S3, parts stream from the file (``multipart``): s3fs would hold each part in flight
    in memory, twice. Other object stores use their backend's own ``put_file``.
    """
    if _is_s3fs(fs):
        multipart.put_file(fs, str(local_path), target, size, callback)
    else:
        fs.put_file(str(local_path), target, callback=callback)


def get_options(fs: fsspec.AbstractFileSystem) -> dict[str, Any]:
    """Options for ``get_file``: on S3, one GET streamed to the file in 64 KiB reads.

    s3fs otherwise fetches an object above one part in ranges of 50 MiB, 10 at once, each
    held whole in memory (about 2x that with copies), and asks for the next batch only when
    the slowest range of the last one arrived. One stream keeps memory flat, and s3fs
    resumes it from the byte it reached if the connection drops. Servers that copy the whole
    object to answer each ranged GET (moto) are also far faster this way. What it gives up:
    several connections' worth of throughput on real S3, for very large objects.
    """
    method = getattr(fs, "_get_file", None)
    if method is None or "s3" not in _protocols(fs):
        return {}
    if "max_concurrency" not in inspect.signature(method).parameters:
        return {}  # older s3fs: one stream already
    return {"max_concurrency": 1}


def errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [OSError]
    for module_name, names in _FOREIGN_ERRORS.items():
        module = sys.modules.get(module_name)
        found.extend(getattr(module, n) for n in names if hasattr(module, n))
    return tuple(found)


# A write that failed for want of room (or of a writable disk) rather than a missing or
# unreadable source: named as a write of the local file, not a read of the store.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def no_room(exc: OSError) -> bool:
    return exc.errno in _NO_ROOM


def reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return text.strip().splitlines()[0]


def modified(info: Mapping[str, Any]) -> float | None:
    """Modification time from an fsspec ``info`` dict, whatever the backend calls it."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if is_number(value):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    return fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)


def _is_s3fs(fs: fsspec.AbstractFileSystem) -> bool:
    return "s3" in _protocols(fs) and hasattr(fs, "_call_s3") and hasattr(fs, "loop")
