"""Run ids: 26 lowercase Crockford base32 characters, time-ordered like a ULID.

The first 10 characters are the creation time in milliseconds, so ids sort by creation; the
other 16 are 80 random bits from ``os.urandom``, never from ``random`` (a training script's
``random.seed(0)`` must not make two runs collide).
"""

from __future__ import annotations

import os
import shlex
import time
from typing import TypeGuard

from gittrack.errors import InvalidKeyError
from gittrack.git.namespace import is_valid_ref_component
from gittrack.runs import layout
from gittrack.types import RunId

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_run_id(now: float | None = None) -> RunId:
    millis = int((time.time() if now is None else now) * 1000)
    random_bits = int.from_bytes(os.urandom(10), "big")
    return RunId(_encode(millis, 10) + _encode(random_bits, 16))


def derived_run_id(at: float, key: str) -> RunId:
    """The id of a run made from something else (an imported run): the time part is ``at``,
    the other 80 bits come from the SHA-256 of ``key``, so the same source gives the same id
    and importing it twice finds the run made the first time."""
    import hashlib

    millis = max(0, min(int(at * 1000), 32**10 - 1))
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()[:10],
                            "big")
    return RunId(_encode(millis, 10) + _encode(digest, 16))


def is_valid_run_id(value: object) -> TypeGuard[str]:
    """The one rule for run ids: what ``init(id=...)`` accepts and what readers of refs
    enforce (a ref a remote forged, ``runs/nested/x``, ``runs/-rf``, is not a run)."""
    return isinstance(value, str) and is_valid_ref_component(value)


def invalid_run_message(run_id: str) -> str:
    """Why a ref under ``runs/`` is not listed or read, and how to delete it."""
    return (f"{layout.run_ref(RunId(run_id))!r} is not a valid run id (1-128 letters, digits, "
            f"'.', '_' or '-'; forged or damaged): `gittrack rm -- {shlex.quote(run_id)}` deletes "
            "it")


def check_run_id(value: object) -> RunId:
    """A user-chosen ``id=``: letters, digits, ``.``, ``_`` and ``-``, usable in a ref name."""
    if not is_valid_run_id(value):
        raise InvalidKeyError(
            f"run id {value!r} is not valid: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return RunId(value)
