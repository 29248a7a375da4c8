"""Run filters, a small subset of the MongoDB-style filters W&B's ``Api.runs`` takes.

``{"state": "finished", "tags": "baseline", "config.lr": {"$lt": 0.01}, "summary.acc":
{"$gte": 0.9}}``. Fields: ``id``, ``name``, ``state``, ``project``, ``group``, ``job_type``,
``tags`` (matches if the run has the tag), ``notes``, ``created_at``; ``config.KEY``,
``summary.KEY`` (dotted for nesting) and ``metadata.KEY`` for anything in ``run.yaml``.
Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex``; ``$and``/``$or`` lists.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gittrack.errors import FormatError, InvalidSettingError

_MISSING = object()
MISSING = _MISSING
"""What ``lookup`` gives for a field a run does not have."""


class _Run(Protocol):
    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def summary(self) -> Mapping[str, Any]: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


Predicate = Callable[[_Run], bool]
_COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
_OPERATORS = ("$eq", "$ne", "$in", "$nin", "$exists", "$regex", *_COMPARISONS)


def matches(run: _Run, filters: Mapping[str, Any]) -> bool:
    return compile_filter(filters)(run)


def compile_filter(filters: Any) -> Predicate:
    """Check a filter once and return its test of a run. A malformed filter (an unknown
    operator, ``{"$in": 5}``, ``{"$and": 5}``, a bad ``$regex``) is an ``InvalidSettingError``
    naming the operator and the value; the test never raises, whatever a run holds."""
    if not isinstance(filters, Mapping):
        raise InvalidSettingError(f"a filter maps fields to conditions, got {filters!r}")
    tests = [_field(field, condition) for field, condition in filters.items()]
    return lambda run: all(test(run) for test in tests)


def conjunction(filters: Mapping[str, Any]) -> list[tuple[str, Callable[[Any], bool]]] | None:
    """A filter ``compile_filter`` accepted, as ``(field, test of its value)`` pairs that must
    all hold (the value as ``lookup`` gives it), or ``None`` when it is not such a
    conjunction (``$or``): a listing tests one field of every run at a time."""
    pairs: list[tuple[str, Callable[[Any], bool]]] = []
    for field, condition in filters.items():
        if field == "$and":
            for part in condition:
                more = conjunction(part)
                if more is None:
                    return None
                pairs += more
        elif field == "$or":
            return None
        elif _is_operators(field, condition):
            ops = [_operator(field, op, arg) for op, arg in condition.items()]
            pairs.append((field, ops[0] if len(ops) == 1 else functools.partial(_all, ops)))
        else:
            pairs.append((field, functools.partial(_equal_to, field, condition)))
    return pairs


def lookup(run: _Run, field: str) -> Any:
    """The value a filter on ``field`` tests (``MISSING`` when the run has none)."""
    return _lookup(run, field)


def dig(source: Any, path: str) -> Any:
    """``source``'s value at the dotted ``path`` as a filter finds it, or ``MISSING``."""
    return _dig(source, path)


def _equal_to(field: str, wanted: Any, value: Any) -> bool:
    return _equal(field, value, wanted)


def _field(field: Any, condition: Any) -> Predicate:
    if not isinstance(field, str):
        raise InvalidSettingError(f"filter field {field!r} is not text")
    if field in ("$and", "$or"):
        if not isinstance(condition, (list, tuple)):
            raise InvalidSettingError(f"{field} takes a list of filters, got {condition!r}")
        parts = [compile_filter(c) for c in condition]
        if field == "$and":
            return lambda run: all(part(run) for part in parts)
        return lambda run: any(part(run) for part in parts)
    if field.startswith("$"):
        raise InvalidSettingError(f"unknown filter operator {field!r} (with {condition!r}); "
                                  "fields go first: {'config.lr': {'$lt': 0.1}}")
    if _is_operators(field, condition):
        ops = [_operator(field, op, arg) for op, arg in condition.items()]
        return lambda run: _all(ops, _lookup(run, field))
    return lambda run: _equal(field, _lookup(run, field), condition)


def _all(ops: list[Callable[[Any], bool]], value: Any) -> bool:
    return all(op(value) for op in ops)


def _is_operators(field: str, condition: Any) -> bool:
    if not isinstance(condition, Mapping) or not condition:
        return False
    dollars = [isinstance(k, str) and k.startswith("$") for k in condition]
    if any(dollars) and not all(dollars):
        raise InvalidSettingError(f"the condition on {field!r} mixes operators and values: "
                                  f"{dict(condition)!r}")
    return all(dollars)


def _lookup(run: _Run, field: str) -> Any:
    head, _, rest = field.partition(".")
    if head in ("config", "summary", "summary_metrics", "metadata") and rest:
        source = {"config": run.config, "summary": run.summary,
                  "summary_metrics": run.summary, "metadata": run.metadata}[head]
        return _dig(source, rest)
    return run.metadata.get(field, _MISSING)


def _dig(source: Any, path: str) -> Any:
    if isinstance(source, Mapping) and path in source:  # keys may contain dots or slashes
        return source[path]
    head, _, rest = path.partition(".")
    if not isinstance(source, Mapping) or head not in source:
        return _MISSING
    return _dig(source[head], rest) if rest else source[head]


def _equal(field: str, value: Any, wanted: Any) -> bool:
    if field == "tags" and isinstance(value, list) and not isinstance(wanted, list):
        return wanted in value
    return value is not _MISSING and bool(value == wanted)


def _operator(field: str, op: str, arg: Any) -> Callable[[Any], bool]:
    """The test of one ``{op: arg}`` on ``field``'s value, once ``arg`` is checked."""
    def bad(wants: str) -> InvalidSettingError:
        return InvalidSettingError(f"filter operator {op} on {field!r} takes {wants}, "
                                   f"got {arg!r}")

    if op == "$exists":
        if not isinstance(arg, bool):
            raise bad("true or false")
        return lambda value: (value is not _MISSING and value is not None) == arg
    if op in ("$eq", "$ne"):
        negate = op == "$ne"
        return lambda value: _equal(field, value, arg) != negate
    if op in ("$in", "$nin"):
        if not isinstance(arg, (list, tuple)):
            raise bad("a list")
        negate = op == "$nin"
        if field != "tags" and arg and all(type(a) is str for a in arg):
            # texts only (``--state``, a name): one set lookup, the answer ``_equal`` gives
            # (a text equals only a text), at 100,000 runs a tenth of the time
            texts = frozenset(arg)
            return lambda value: (type(value) is str and value in texts) != negate
        return lambda value: any(_equal(field, value, a) for a in arg) != negate
    if op == "$regex":
        return _regex(arg, bad)
    if op in _COMPARISONS:
        if isinstance(arg, bool) or not isinstance(arg, (int, float, str)):
            raise bad("a number or a text")
        return lambda value: _compare(op, value, arg)
    raise InvalidSettingError(f"unknown filter operator {op!r} on {field!r} (with {arg!r}); "
                              f"known: {' '.join(_OPERATORS)}")


def _regex(arg: Any, bad: Callable[[str], InvalidSettingError]) -> Callable[[Any], bool]:
    if not isinstance(arg, str):
        raise bad("a regular expression (text)")
    try:
        pattern = re.compile(arg)
    except (re.error, RecursionError, OverflowError) as exc:
        raise bad(f"a valid regular expression ({exc})") from None
    return lambda value: isinstance(value, str) and pattern.search(value) is not None


def _compare(op: str, value: Any, arg: Any) -> bool:
    if value is _MISSING or value is None:
        return False
    try:
        if op == "$gt":
            return bool(value > arg)
        if op == "$gte":
            return bool(value >= arg)
        if op == "$lt":
            return bool(value < arg)
        return bool(value <= arg)
    except TypeError:  # a number against a text, a list against a number: no match
        return False


def parse_cli_filter(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` (``config.lr=0.01``) from the command line; VALUE read as YAML."""
    from gittrack.formats import yamlio

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise InvalidSettingError(f"filter {text!r} must look like KEY=VALUE (e.g. lr=0.01)")
    try:
        value = yamlio.load(raw, what=f"filter value {raw!r}") if raw else ""
    except FormatError as exc:  # the user's argument, not stored data
        raise InvalidSettingError(str(exc)) from None
    return key, value
