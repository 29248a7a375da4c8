"""What a run accepts from its user, turned into the few types gittrack stores.

``log()`` stores ``bool``, ``int`` (64-bit), ``float`` (NaN and ±inf kept) and ``str``; plus
``Histogram``. Nested dicts flatten to ``a/b``. ``None`` means "no value at this step". A key
keeps one kind for the life of a run: numbers (bool < int < float promote), strings, or
histograms. Config and summary values (``to_plain``) are YAML data: dicts, lists, scalars.

Everywhere (keys, values, labels such as the run's name) a string must be text that UTF-8
can store: a lone surrogate (``"caf\\udce9"``, from ``os.listdir`` of a non-UTF-8 name) is
refused naming the key and the position, never stored to fail at a checkpoint. Keys hold no
control characters; nesting is bounded by ``MAX_DEPTH`` (docs/format.md, "Values").
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from gittrack.errors import InvalidKeyError, InvalidValueError
from gittrack.formats import yamlio
from gittrack.formats.histogram import Histogram

Scalar = bool | int | float | str
Value = Scalar | Histogram

RESERVED_KEYS = frozenset({"_step", "_timestamp", "_runtime"})
MAX_KEY_LENGTH = 512  # characters of a key, or of a label (name, project, group, tag, ...)
MAX_STRING_LENGTH = 1024 * 1024  # characters of a string value, or of all in one log() call
MAX_DEPTH = 64  # levels of dicts and lists in one value
MAX_PLAIN_INT_BITS = 1024  # config and summary integers (log() keeps 64-bit ones)
# The bounds of the YAML documents a run or an artifact version stores, all shares of the one
# bound readers load, yamlio.MAX_BYTES (16 MiB; docs/format.md, "Bounds"):
# config.yaml, the summary entries set by the user, an artifact's metadata: a quarter, and a
# change stays one write-ahead-log record well below a segment (docs/decisions.md)
MAX_DOCUMENT_BYTES = yamlio.MAX_BYTES // 4
# one field of run.yaml or artifact.yaml the user sets (notes, tags, description): an eighth
MAX_FIELD_BYTES = yamlio.MAX_BYTES // 8
MAX_TAGS = 10_000
# the summary and resume.yaml entries log() makes: what new keys are charged against
# (Normalizer); a half, with every charge an upper bound of what one key adds to either (the
# other half: config-like entries set by the user, MAX_DOCUMENT_BYTES, and fixed fields)
MAX_LOGGED_BYTES = yamlio.MAX_BYTES // 2
MAX_SUMMARY_STRING = 512
"""Characters of a logged string value that ``summary.yaml`` keeps (the history keeps all)."""
_INT64 = (-(2**63), 2**63 - 1)
_FAST_KINDS: dict[type, str] = {float: "num", int: "num", bool: "num", str: "str"}
_FLOATISH = frozenset({float, bool})
_FLOAT = frozenset({float})
_STR = frozenset({str})


# -- text -------------------------------------------------------------------------------------
def plain_str(text: str) -> str:
    """``text`` as a plain ``str``: the WAL holds plain data only (not ``np.str_``), and a
    ``(str, Enum)`` member is its value (``str()`` of it would be ``"Color.RED"``)."""
    return text if type(text) is str else str.__str__(text)


def text_problem(text: str) -> str | None:
    """Why UTF-8 cannot store ``text`` (a lone surrogate, and where), or ``None``."""
    if text.isascii():  # O(1) in CPython: the common case costs nothing
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"holds the lone surrogate {text[exc.start]!r} at position {exc.start}, which UTF-8 "
            "cannot store (a name from a non-UTF-8 file system? decode it with "
            "errors='replace' or use its repr())"
        )
    return None


def string_problem(text: str) -> str | None:
    """Why ``text`` cannot be a stored string value (too long, a lone surrogate), or ``None``."""
    if len(text) > MAX_STRING_LENGTH:
        return f"is a string of {len(text)} characters; the limit is {MAX_STRING_LENGTH}"
    return text_problem(text)


def check_text(text: str, *, what: str) -> str:
    """``text`` as a plain ``str`` if it can be stored, else ``InvalidValueError`` naming
    ``what`` (``'config.path'``, ``notes``): a lone surrogate, or over ``MAX_STRING_LENGTH``."""
    problem = string_problem(text)
    if problem is not None:
        raise InvalidValueError(f"{what} {problem}")
    return plain_str(text)


def readable(value: Any) -> Any:
    """``value`` (str, or dicts and lists of them) with each string UTF-8 can store: bytes
    that the file system or command line could not decode (lone surrogates from
    ``surrogateescape``) become ``\\xNN`` escapes. For facts read from the system (the working
    folder, ``sys.argv``), which a user cannot change for a run that is starting."""
    if isinstance(value, str):
        if text_problem(value) is None:
            return value
        raw = value.encode("utf-8", "surrogateescape") if _only_escapes(value) else None
        if raw is not None:
            return raw.decode("utf-8", "backslashreplace")
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {readable(k): readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


def _only_escapes(text: str) -> bool:
    """Whether every surrogate in ``text`` is one ``surrogateescape`` makes (U+DC80-U+DCFF)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in text)


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a key (of a metric, config or summary entry), or ``None``."""
    if len(key) > MAX_KEY_LENGTH:
        return f"is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
    if _has_control(key):
        return "contains a control character"
    return text_problem(key)


def check_label(field: str, value: object) -> str | None:
    """A one-line label of a run (``name``, ``project``, ``group``, ``job_type``, a tag):
    ``None`` or a string of text without control characters, up to ``MAX_KEY_LENGTH``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValueError(f"{field} must be a string, got {type(value).__name__} {value!r}")
    problem = key_problem(value)
    if problem is not None:
        raise InvalidValueError(f"{field} {_short(value)} {problem}")
    return plain_str(value)


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else f"{text[:40]!r}..."


# -- log() -------------------------------------------------------------------------------------
def validate_key(key: object) -> str:
    """Return ``key`` if it can name a metric, else raise ``InvalidKeyError`` saying why."""
    if not isinstance(key, str):
        raise InvalidKeyError(f"metric keys must be strings, got {type(key).__name__} {key!r}")
    if not key:
        raise InvalidKeyError("metric keys must not be empty")
    problem = key_problem(key)
    if problem is not None:
        raise InvalidKeyError(f"metric key {_short(key)} {problem}")
    if key in RESERVED_KEYS:
        raise InvalidKeyError(f"metric key {key!r} is reserved for gittrack's own columns")
    if any(not part for part in key.split("/")):
        raise InvalidKeyError(f"metric key {key!r} has an empty part between slashes")
    return plain_str(key)


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

    __slots__ = ("_charges", "_number_keys", "_slow_used", "aggregated", "charged",
                 "floats", "has_histogram", "kinds", "text")

    def __init__(
        self, kinds: Mapping[str, str] | None = None,
        aggregated: Callable[[str], bool] = lambda key: False,
    ) -> None:
        self.aggregated = aggregated  # whether define_metric aggregates a key's summary
        self.kinds: dict[str, str] = dict(kinds or {})
        self._number_keys = {k for k, kind in self.kinds.items() if kind == "num"}
        self.has_histogram = False  # whether the last normalize() returned a Histogram
        self.floats = False  # whether every value normalize() last returned is a float
        self.text = 0  # characters of text in the string values normalize() last returned
        self._slow_used = False
        # What each key may add to summary.yaml and resume.yaml, and the sum: a new key (or a
        # histogram with more bins) beyond MAX_LOGGED_BYTES is refused, so that the run stays
        # readable. Charged only on the slow path, which every new key takes.
        # Not checked against the bound: a run resumed from an older version of gittrack (or
        # one logged with another bound) must not become impossible to resume.
        self._charges = {k: logged_charge(k, kind, None, aggregated(k))
                         for k, kind in self.kinds.items()}
        self.charged = sum(self._charges.values())

    def recharge(self, aggregated: Callable[[str], bool] | None = None) -> None:
        """Charge every known key again, as ``aggregated`` (a ``define_metric`` to come) says
        its summary is; ``InvalidValueError`` if they are now over the bound, changing nothing."""
        which = self.aggregated if aggregated is None else aggregated
        charges = {k: max(self._charges.get(k, 0), logged_charge(k, kind, None, which(k)))
                   for k, kind in self.kinds.items()}
        total = sum(charges.values())
        if total > MAX_LOGGED_BYTES and total > self.charged:
            raise InvalidValueError(
                f"the run's {len(charges):,} metric keys would take up to {total:,} bytes of "
                f"summary.yaml and resume.yaml, the limit is {MAX_LOGGED_BYTES:,} "
                "(docs/format.md, \"Bounds\")"
            )
        self._charges, self.charged = charges, total

    def normalize(self, data: object) -> dict[str, Value]:
        if type(data) is dict:
            if (
                data.keys() <= self._number_keys
                and (types := set(map(type, data.values()))) <= _FLOATISH
                and _STR.issuperset(map(type, data))  # not np.str_: the WAL holds plain data
            ):
                self.has_histogram = False
                self.text = 0
                self.floats = bool not in types
                return dict(data)
        elif not isinstance(data, Mapping):
            raise InvalidValueError(
                f"log() takes a dict of key -> value, got {type(data).__name__}"
            )
        out: dict[str, Value] = {}
        kinds = self.kinds
        self.has_histogram = self._slow_used = self.floats = False
        text = 0
        for key, value in data.items():
            kind = _FAST_KINDS.get(type(value))
            # type(key) is str: a str subclass (np.str_) key takes the slow path to become a str
            if kind is not None and kinds.get(key) == kind and type(key) is str:
                if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
                    raise InvalidValueError(f"value of {key!r} does not fit in 64 bits: {value}")
                if kind == "str":
                    text += len(value)
                    if (len(value) > MAX_STRING_LENGTH or not value.isascii()) and (
                        problem := string_problem(value)
                    ) is not None:
                        raise InvalidValueError(f"value of {key!r} {problem}")
                out[key] = value
            else:
                self._slow(key, value, out, "", 1)
        if self._slow_used:
            text = sum(len(v) for v in out.values() if type(v) is str)
        self.text = text
        if text > MAX_STRING_LENGTH:
            # One call is one write-ahead-log record, which must stay well below a segment.
            raise InvalidValueError(
                f"log() call holds {text} characters of text in its string values; the limit "
                f"per call is {MAX_STRING_LENGTH} (log large texts as artifacts)"
            )
        if self._slow_used:
            self._charge(out)
            # Register kinds only once the whole dict is valid: a bad value leaves no trace.
            for key, value in out.items():
                if key not in kinds:
                    kinds[key] = kind = kind_of(value)
                    if kind == "num":
                        self._number_keys.add(key)
        self.floats = not self.has_histogram and set(map(type, out.values())) <= _FLOAT
        return out

    def _charge(self, out: dict[str, Value]) -> None:
        """Charge ``out``'s new keys and grown histograms, or refuse the call naming the key."""
        charges = self._charges
        new: dict[str, int] = {}
        for key, value in out.items():
            if key not in charges or type(value) is Histogram:
                charge = logged_charge(key, kind_of(value), value, self.aggregated(key))
                if charge > charges.get(key, 0):
                    new[key] = charge
        if not new:
            return
        total = self.charged + sum(c - charges.get(k, 0) for k, c in new.items())
        if total > MAX_LOGGED_BYTES:
            key = max(new, key=new.__getitem__)
            raise InvalidValueError(
                f"metric {_short(key)} would take the run's summary past its bound: the keys "
                f"logged so far take up to {self.charged:,} bytes of summary.yaml and "
                f"resume.yaml, the limit is {MAX_LOGGED_BYTES:,} (docs/format.md, \"Bounds\"); "
                "log fewer distinct keys, or large data as an artifact"
            )
        charges.update(new)
        self.charged = total

    def _slow(
        self, key: object, value: Any, out: dict[str, Value], prefix: str, depth: int
    ) -> None:
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
            if depth >= MAX_DEPTH and value:
                raise InvalidValueError(
                    f"metric {_short(name)} nests more than {MAX_DEPTH} levels deep"
                )
            for sub_key, sub_value in value.items():
                self._slow(sub_key, sub_value, out, name + "/", depth + 1)
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


def logged_charge(key: str, kind: str, value: Any = None, aggregated: bool = False) -> int:
    """An upper bound of the bytes one logged key adds to ``summary.yaml`` and to
    ``resume.yaml`` each: its kind and its summary value, or, for a key ``define_metric``
    aggregates, up to six values (summary: min, max, mean, first, last; resume: those and a
    sum and a count). A number takes 32 bytes as YAML, a summary string ``MAX_SUMMARY_STRING``
    characters of up to 11 bytes each (a ``\\U`` escape, folding), a histogram 32 bytes per
    bin edge and count; a key twice its UTF-8 length (quotes, escapes) unless plain."""
    size = len(key.encode("utf-8", "surrogatepass"))
    if not (key.isascii() and key.isprintable() and not _QUOTED.intersection(key)):
        size *= 2
    size += 16
    if kind == "str":
        one = 11 * MAX_SUMMARY_STRING + 16
    elif kind == "histogram":
        one = 32 * (2 * (value.num_bins if isinstance(value, Histogram) else 64) + 1) + 64
    else:
        one = 32
    return 3 * size + 7 * one if aggregated else 2 * size + one


_QUOTED = frozenset("'\\\"")


def summary_value(value: Any) -> Any:
    """A logged value as ``summary.yaml`` keeps it: a string longer than ``MAX_SUMMARY_STRING``
    characters cut to its first ``MAX_SUMMARY_STRING`` (the history keeps the whole string)."""
    if type(value) is str and len(value) > MAX_SUMMARY_STRING:
        return value[:MAX_SUMMARY_STRING]
    return value


def to_value(key: str, value: Any) -> Value | None:
    """One value as a stored type; raises ``InvalidValueError`` naming ``key`` and the type."""
    if value is None:
        return None
    if isinstance(value, (bool, Histogram)):
        return value
    if isinstance(value, str):  # np.str_ and other subclasses become plain str
        return check_text(value, what=f"value of {key!r}")
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


# -- config and summary -------------------------------------------------------------------------
def to_plain(value: Any, *, where: str, depth: int = 0) -> Any:
    """A config value as plain YAML data (dicts, lists, scalars); raises naming ``where``.

    ``depth`` is how deeply ``value`` sits in what the caller is converting: a container
    ``MAX_DEPTH`` levels down must be empty.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return check_text(value, what=f"value {where!r}")
    if isinstance(value, int):
        return _plain_int(int(value), where)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        _check_depth(value, where, depth)
        out = {}
        given: dict[str, object] = {}
        for k, v in value.items():
            key = _plain_key(k, where)
            if key in given:  # {1: .., "1": ..}: both are "1" in YAML
                raise InvalidKeyError(
                    f"key {key!r} under {where!r} is given twice (as {given[key]!r} and "
                    f"{k!r})"
                )
            given[key] = k
            out[key] = to_plain(v, where=f"{where}.{key}", depth=depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        _check_depth(value, where, depth)
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v, where=f"{where}[{i}]", depth=depth + 1) for i, v in enumerate(items)]
    return to_plain(_unwrap(value, where), where=where, depth=depth)


def wandb_plain(value: Any, *, depth: int = 0) -> Any:
    """A config value the way W&B keeps it (``wandb.util.json_friendly_val``), before
    ``to_plain``: an enum member is its name, a date its ISO text, bytes their UTF-8 text, a
    slice a dict, a dataclass its fields, a function or class ``module.qualname``, a tensor or
    numpy value a number or list, a path its text, and anything else (``torch.device``,
    ``torch.dtype``, a nested ``argparse.Namespace``) its ``str()``. Used by
    ``gittrack.wandb``; ``run.config`` itself refuses what it cannot store."""
    import dataclasses
    import datetime as dt
    import enum

    if value is None or isinstance(value, (bool, int, float, str)) or depth > MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {k: wandb_plain(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [wandb_plain(v, depth=depth + 1) for v in items]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, slice):
        return {"slice_start": value.start, "slice_step": value.step, "slice_stop": value.stop}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return wandb_plain({f.name: getattr(value, f.name)
                            for f in dataclasses.fields(value)}, depth=depth + 1)
    try:
        return to_plain(value, where="config", depth=depth)
    except (InvalidValueError, InvalidKeyError):
        pass
    if callable(value) and hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        return f"{value.__module__}.{value.__qualname__}"
    return str(value)


def _check_depth(container: Any, where: str, depth: int) -> None:
    if depth >= MAX_DEPTH and container:
        raise InvalidValueError(
            f"value {where!r} nests more than {MAX_DEPTH} levels deep (a loop that "
            "contains itself?)"
        )


def _plain_int(value: int, where: str) -> int:
    bits = value.bit_length()
    if bits > MAX_PLAIN_INT_BITS:
        raise InvalidValueError(
            f"value {where!r} is an integer of {bits} bits; config and summary keep "
            f"integers of up to {MAX_PLAIN_INT_BITS} bits (log() up to 64)"
        )
    return value


def _plain_key(key: object, where: str) -> str:
    """A config key as stored: a string (numbers and bools as their ``str``), checked."""
    if not isinstance(key, (str, int, float)):  # bool is an int
        raise InvalidKeyError(
            f"key {key!r} under {where!r} must be a string, not {type(key).__name__}"
        )
    text = plain_str(key) if isinstance(key, str) else str(key)
    problem = key_problem(text)
    if problem is not None:
        raise InvalidKeyError(f"key {_short(text)} under {where!r} {problem}")
    return text


def _unwrap(value: Any, where: str) -> Any:
    """A numpy array or scalar, a tensor, a number type or a path as plain Python data."""
    for method in ("tolist", "item"):
        convert = getattr(value, method, None)
        if callable(convert):
            try:
                plain = convert()
            except Exception as exc:  # a foreign object's method: any failure is its own
                raise InvalidValueError(
                    f"value {where!r}: {type(value).__name__}.{method}() failed: {exc}"
                ) from None
            if type(plain) is type(value):  # a .tolist()/.item() that does not unwrap
                break
            return plain
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    import os

    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise InvalidValueError(
        f"value {where!r} of type {type(value).__name__} cannot be stored; "
        "use numbers, strings, bools, None, lists and dicts"
    )


def entry_bytes(key: str, value: Any) -> int:
    """The bytes ``key: value`` takes in a YAML document of gittrack's: a document is the
    concatenation of its top-level entries, so its size is the sum of theirs."""
    return len(yamlio.dump({key: value}))


_V = TypeVar("_V")


def check_field(name: str, value: _V, *, limit: int | None = None) -> _V:
    """``value``, if ``name: value`` takes at most ``limit`` (``MAX_FIELD_BYTES``) bytes as
    YAML, else ``InvalidValueError`` naming the field and the limit: one field of a document
    a reader must be able to load (run.yaml's notes and tags, artifact.yaml's description)."""
    limit = MAX_FIELD_BYTES if limit is None else limit
    # a string has at least a byte per character: a huge one is refused without dumping it
    size = len(value) if isinstance(value, str) and len(value) > limit else entry_bytes(
        name, value)
    if size > limit:
        raise InvalidValueError(f"{name} would take {size:,} bytes as YAML; the limit is "
                                f"{limit:,} (docs/format.md, \"Bounds\")")
    return value


def check_document(sizes: Mapping[str, int], *, what: str) -> None:
    """``InvalidValueError`` if a document whose top-level entries take ``sizes`` bytes is
    larger than ``MAX_DOCUMENT_BYTES``: readers bound the YAML they load (docs/format.md)."""
    total = sum(sizes.values())
    if total > MAX_DOCUMENT_BYTES:
        biggest = max(sizes, key=sizes.__getitem__)
        raise InvalidValueError(
            f"{what} would take {total:,} bytes as YAML; the limit is {MAX_DOCUMENT_BYTES:,} "
            f"(the largest entry, {_short(biggest)}, takes {sizes[biggest]:,}): keep large "
            "data in an artifact"
        )
