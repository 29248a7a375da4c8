"""Blob names: validation, the ``ab/cdef...`` fan-out, and temporary names next to a target.

Names are lowercase hex (a sha256 digest, or its keyed HMAC for private projects). Refusing
anything else here means no name can ever hold ``/``, ``..`` or a separator of its own.
"""

from __future__ import annotations

import re
import uuid

from gittrack.errors import StorageError
from gittrack.types import BlobName

_NAME = re.compile(r"[0-9a-f]{3,}")
_TEMP_MARK = ".tmp-"


def is_name(name: str) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_name(name: str) -> BlobName:
    """``name`` as a ``BlobName`` if it is lowercase hex of at least 3 characters, else raise."""
    if not is_name(name):
        raise StorageError(f"invalid blob name {name!r}: expected lowercase hex, 3+ characters")
    return BlobName(name)


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
