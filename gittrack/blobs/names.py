"""Blob names and digests: validation, the ``ab/cdef...`` fan-out, and temporary names next
to a target.

Names are lowercase hex (a sha256 digest, or its keyed HMAC for private projects). Refusing
anything else here means no name can ever hold ``/``, ``..`` or a separator of its own. A
string read from outside (a manifest, a store listing, a journal) becomes a ``BlobName`` or a
``Digest`` here, checked; a public project's blob is named by its digest (``public_blob_name``),
and a blob so named holds plaintext (``is_plaintext``).
"""

from __future__ import annotations

import re
import uuid
from typing import TypeGuard

from gittrack.errors import StorageError
from gittrack.types import BlobName, Digest

_NAME = re.compile(r"[0-9a-f]{3,}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_TEMP_MARK = ".tmp-"


def is_name(name: str) -> TypeGuard[BlobName]:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def is_digest(value: str) -> TypeGuard[Digest]:
    """Whether ``value`` is a sha256 as gittrack writes it: 64 lowercase hex digits."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def public_blob_name(digest: Digest) -> BlobName:
    """The name of a plaintext blob: its content's digest (a public project's blobs)."""
    return BlobName(digest)


def is_plaintext(blob: BlobName, digest: Digest) -> bool:
    """Whether ``blob``, storing the content ``digest``, holds it as plaintext: named by the
    digest itself (any other name is keyed, the blob encrypted)."""
    return blob == public_blob_name(digest)


def check_name(name: str) -> BlobName:
    """``name`` as a ``BlobName`` if it is lowercase hex of at least 3 characters, else raise."""
    if not is_name(name):
        raise StorageError(f"invalid blob name {name!r}: expected lowercase hex, 3+ characters")
    return name


def shard(name: str) -> tuple[str, str]:
    """``"abcdef"`` → ``("ab", "cdef")``: 256 folders keep every listing short."""
    check_name(name)
    return name[:2], name[2:]


def temp_name(final: str) -> str:
    """A unique sibling of ``final`` for an upload or download in progress.

    Kept in the same folder so the last step is a rename on one filesystem; the mark makes it
    an invalid blob name, so listings never report it.
    """
    return f"{final}{_TEMP_MARK}{uuid.uuid4().hex}"
