"""What media types accept as data, checked on the caller's thread: arrays (numpy, torch
tensors, nested lists) and files (a path, or bytes in a file object with their format).

Every refusal is an ``InvalidValueError`` naming the key and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gittrack.errors import InvalidValueError
from gittrack.formats.values import text_problem

if TYPE_CHECKING:
    import numpy as np


def caption(key: str, value: Any) -> str | None:
    """A caption as stored: ``None`` or text (anything else as its ``str``, as W&B does);
    ``InvalidValueError`` naming ``key`` for text UTF-8 cannot store."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    problem = text_problem(text)
    if problem is not None:
        raise InvalidValueError(f"cannot log {key!r}: the caption {problem}")
    return text


def is_tensor(data: Any) -> bool:
    """A torch (or torch-like) tensor, recognised without importing torch."""
    return type(data).__module__.split(".")[0] == "torch" and hasattr(data, "detach")


def as_array(key: str, data: Any, kind: str, expected: str) -> np.ndarray:
    """``data`` as a numpy array: an array, a tensor (detached, on the CPU) or nested lists
    of numbers."""
    import numpy as np

    if isinstance(data, np.ndarray):
        array = data
    elif is_tensor(data):
        tensor = data.detach().cpu()
        if not tensor.dtype.is_floating_point or tensor.dtype.itemsize >= 4:
            array = tensor.numpy()
        else:  # float16/bfloat16: numpy has no bfloat16
            array = tensor.float().numpy()
    elif isinstance(data, list | tuple):
        try:
            array = np.asarray(data)
        except ValueError:  # ragged lists
            array = np.asarray([], dtype=object)
    else:
        raise InvalidValueError(
            f"cannot log {key!r}: {kind} expects {expected}, a tensor or a file path, "
            f"got {type(data).__name__}")
    if array.dtype.kind not in "biuf":
        raise InvalidValueError(
            f"cannot log {key!r}: {kind} expects {expected} of numbers, got an array of "
            f"dtype {array.dtype} and shape {array.shape}")
    return array


def as_uint8(key: str, array: np.ndarray, kind: str) -> np.ndarray:
    """Pixel values as uint8: uint8 as they are, other integers in [0, 255], floats in [0, 1]
    scaled by 255 (floats above 1 up to 255 are taken as pixel values, as W&B casts them)."""
    import numpy as np

    if array.dtype == np.uint8:
        return array
    if array.dtype.kind == "b":
        raise InvalidValueError(f"cannot log {key!r}: {kind} expects uint8 or float pixels, "
                                f"got booleans")
    low, high = (array.min(), array.max()) if array.size else (0, 0)
    if array.dtype.kind == "f":
        if not (np.isfinite(low) and np.isfinite(high)):
            raise InvalidValueError(f"cannot log {key!r}: {kind} pixels must be finite; "
                                    f"got NaN or infinity")
        if low >= 0 and high <= 1:
            array = array * 255
    if low < 0 or high > 255:
        raise InvalidValueError(
            f"cannot log {key!r}: {kind} expects uint8 pixels (0-255) or floats in [0, 1]; "
            f"got values from {low} to {high} ({array.dtype})")
    result: np.ndarray = np.rint(array).astype(np.uint8) if array.dtype.kind == "f" else \
        array.astype(np.uint8)
    return result


def file_source(key: str, data: Any, kind: str, formats: Sequence[str],
                fmt: str | None) -> tuple[bytes, str] | None:
    """The bytes and format of a file given as ``data`` (a path, raw bytes or a binary file
    object with ``format``), or None if ``data`` is not a file."""
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        ext = {"jpeg": "jpg", "oga": "ogg", "ogv": "ogg"}.get(ext, ext)
        if ext not in formats:
            raise InvalidValueError(
                f"cannot log {key!r}: {kind} file {path!r} is not one of the kinds kept "
                f"({', '.join('.' + f for f in formats)})")
        try:
            with open(path, "rb") as file:
                raw = file.read()
        except OSError as exc:
            raise InvalidValueError(f"cannot log {key!r}: cannot read {kind} file {path!r}: "
                                    f"{exc.strerror or exc}") from None
        return _nonempty(key, kind, path, raw), ext
    if isinstance(data, bytes | bytearray | memoryview) or hasattr(data, "read"):
        if fmt is None or fmt not in formats:
            raise InvalidValueError(
                f"cannot log {key!r}: {kind} bytes need format= one of {', '.join(formats)}, "
                f"got {fmt!r}")
        raw = data.read() if hasattr(data, "read") else bytes(data)
        if not isinstance(raw, bytes):
            raise InvalidValueError(f"cannot log {key!r}: {kind} expects a binary file "
                                    f"object, got one that reads {type(raw).__name__}")
        return _nonempty(key, kind, "the data", raw), fmt
    return None


def _nonempty(key: str, kind: str, what: str, raw: bytes) -> bytes:
    if not raw:
        raise InvalidValueError(f"cannot log {key!r}: {kind} file {what} is empty")
    return raw
