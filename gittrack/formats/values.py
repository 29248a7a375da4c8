"""What ``log()`` accepts, turned into the few types gittrack stores.

Stored scalar types: ``bool``, ``int`` (64-bit), ``float`` (NaN and ±inf kept) and ``str``;
plus ``Histogram``. Nested dicts flatten to ``a/b``. ``None`` means "no value at this step".
A key keeps one kind for the life of a run: numbers (bool < int < float promote), strings, or
histograms.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from gittrack.errors import InvalidKeyError, InvalidValueError
from gittrack.formats.histogram import Histogram

Scalar = bool | int | float | str
Value = Scalar | Histogram

RESERVED_KEYS = frozenset({"_step", "_timestamp", "_runtime"})
MAX_KEY_LENGTH = 512
_INT64 = (-(2**63), 2**63 - 1)
_FAST_KINDS: dict[type, str] = {float: "num", int: "num", bool: "num", str: "str"}
_FLOATISH = frozenset({float, bool})
_STR = frozenset({str})


def validate_key(key: object) -> str:
    """Return ``key`` if it can name a metric, else raise ``InvalidKeyError`` saying why."""
    if not isinstance(key, str):
        raise InvalidKeyError(f"metric keys must be strings, got {type(key).__name__} {key!r}")
    if not key:
        raise InvalidKeyError("metric keys must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(
            f"metric key {key[:40]!r}... is {len(key)} characters long; the limit is "
            f"{MAX_KEY_LENGTH}"
        )
    if key in RESERVED_KEYS:
        raise InvalidKeyError(f"metric key {key!r} is reserved for gittrack's own columns")
    if any(not part for part in key.split("/")):
        raise InvalidKeyError(f"metric key {key!r} has an empty part between slashes")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidKeyError(f"metric key {key!r} contains a control character")
    return str(key)  # a plain str even for subclasses (np.str_): the WAL holds plain data only


def kind_of(value: Value) -> str:
    if isinstance(value, Histogram):
        return "histogram"
    return "str" if isinstance(value, str) else "num"


class Normalizer:
    """Validates and flattens ``log()`` data; remembers each key's kind for one run.

    ``log()`` is called in the hot loop of training, so there are two fast paths: a dict whose
    keys are all known numeric keys and whose values are all ``float``/``bool`` is checked with
    two set operations in C; otherwise a known key with a plain ``float``/``int``/``bool``/``str``
    costs two dict lookups.
    """

    __slots__ = ("_number_keys", "_slow_used", "has_histogram", "kinds")

    def __init__(self, kinds: Mapping[str, str] | None = None) -> None:
        self.kinds: dict[str, str] = dict(kinds or {})
        self._number_keys = {k for k, kind in self.kinds.items() if kind == "num"}
        self.has_histogram = False  # whether the last normalize() returned a Histogram
        self._slow_used = False

    def normalize(self, data: object) -> dict[str, Value]:
        if type(data) is dict:
            if (
                data.keys() <= self._number_keys
                and _FLOATISH.issuperset(map(type, data.values()))
                and _STR.issuperset(map(type, data))  # not np.str_: the WAL holds plain data
            ):
                self.has_histogram = False
                return dict(data)
        elif not isinstance(data, Mapping):
            raise InvalidValueError(
                f"log() takes a dict of key -> value, got {type(data).__name__}"
            )
        out: dict[str, Value] = {}
        kinds = self.kinds
        self.has_histogram = self._slow_used = False
        for key, value in data.items():
            kind = _FAST_KINDS.get(type(value))
            # type(key) is str: a str subclass (np.str_) key takes the slow path to become a str
            if kind is not None and kinds.get(key) == kind and type(key) is str:
                if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
                    raise InvalidValueError(f"value of {key!r} does not fit in 64 bits: {value}")
                out[key] = value
            else:
                self._slow(key, value, out, "")
        if self._slow_used:
            # Register kinds only once the whole dict is valid: a bad value leaves no trace.
            for key, value in out.items():
                if key not in kinds:
                    kinds[key] = kind = kind_of(value)
                    if kind == "num":
                        self._number_keys.add(key)
        return out

    def _slow(self, key: object, value: Any, out: dict[str, Value], prefix: str) -> None:
        self._slow_used = True
        if prefix:
            if not isinstance(key, str):
                raise InvalidKeyError(
                    f"metric keys must be strings, got {type(key).__name__} {key!r} "
                    f"under {prefix[:-1]!r}"
                )
            key = prefix + key
        name = validate_key(key)
        if isinstance(value, Mapping) and not isinstance(value, Histogram):
            for sub_key, sub_value in value.items():
                self._slow(sub_key, sub_value, out, name + "/")
            return
        converted = to_value(name, value)
        if converted is None:
            return
        known = self.kinds.get(name)
        kind = kind_of(converted)
        if known is not None and known != kind:
            raise InvalidValueError(
                f"metric {name!r} was logged as {_KIND_NAMES[known]} before; "
                f"cannot log {_KIND_NAMES[kind]} ({type(value).__name__}) under the same key"
            )
        if name in out:
            raise InvalidKeyError(f"metric key {name!r} is given twice (nested and flat)")
        if kind == "histogram":
            self.has_histogram = True
        out[name] = converted


_KIND_NAMES = {"num": "a number", "str": "a string", "histogram": "a histogram"}


def to_value(key: str, value: Any) -> Value | None:
    """One value as a stored type; raises ``InvalidValueError`` naming ``key`` and the type."""
    if value is None:
        return None
    if isinstance(value, (bool, Histogram)) or type(value) is str:
        return value
    if isinstance(value, str):  # np.str_ and other subclasses: the WAL holds plain data only
        return str(value)
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise InvalidValueError(f"value of {key!r} does not fit in 64 bits: {value}")
        return int(value)
    if isinstance(value, float):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (bytes, bytearray)):
        return _from_item(key, value, item)
    if isinstance(value, numbers.Integral):
        return to_value(key, int(value))
    if isinstance(value, numbers.Real):
        return float(value)
    raise InvalidValueError(
        f"cannot log {key!r}: values of type {type(value).__module__}.{type(value).__qualname__}"
        " are not supported (log numbers, bools, strings, 0-d arrays/tensors, or a "
        "gittrack.Histogram)"
    )


def _from_item(key: str, value: Any, item: Any) -> Value | None:
    size = _size(value)
    if size is not None and size != 1:
        shape = getattr(value, "shape", "?")
        raise InvalidValueError(
            f"cannot log {key!r}: {type(value).__name__} of shape {tuple(shape)} is not a "
            "scalar; log a scalar, or wrap it in gittrack.Histogram(...)"
        )
    try:
        plain = item()
    except (ValueError, TypeError, RuntimeError) as exc:
        raise InvalidValueError(
            f"cannot log {key!r}: {type(value).__name__}.item() failed: {exc}"
        ) from None
    if type(plain) is type(value):  # an .item() that does not unwrap
        raise InvalidValueError(f"cannot log {key!r}: values of type {type(value).__name__}")
    if isinstance(plain, complex):
        raise InvalidValueError(f"cannot log {key!r}: complex numbers are not supported")
    return to_value(key, plain)


def _size(value: Any) -> int | None:
    size = getattr(value, "size", None)
    if isinstance(size, int):
        return size
    numel = getattr(value, "numel", None)
    if callable(numel):
        try:
            return int(numel())
        except (TypeError, ValueError):
            return None
    if callable(size):  # torch: .size() is the shape
        return None
    return None


def to_plain(value: Any, *, where: str) -> Any:
    """A config value as plain YAML data (dicts, lists, scalars); raises naming ``where``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # np.str_ and other subclasses: YAML and the WAL take plain str only
    if isinstance(value, (int, float)):
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool)):
                raise InvalidValueError(
                    f"config key {k!r} under {where!r} must be a string, not {type(k).__name__}"
                )
            out[str(k)] = to_plain(v, where=f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v, where=f"{where}[{i}]") for i, v in enumerate(items)]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        return to_plain(value.tolist(), where=where)
    if callable(getattr(value, "item", None)):
        return to_plain(value.item(), where=where)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    import os

    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise InvalidValueError(
        f"config value {where!r} of type {type(value).__name__} cannot be stored; "
        "use numbers, strings, bools, None, lists and dicts"
    )
