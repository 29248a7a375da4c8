"""Run filters, a small subset of the MongoDB-style filters W&B's ``Api.runs`` takes.

``{"state": "finished", "tags": "baseline", "config.lr": {"$lt": 0.01}, "summary.acc":
{"$gte": 0.9}}``. Fields: ``id``, ``name``, ``state``, ``project``, ``group``, ``job_type``,
``tags`` (matches if the run has the tag), ``notes``, ``created_at``; ``config.KEY``,
``summary.KEY`` (dotted for nesting) and ``metadata.KEY`` for anything in ``run.yaml``.
Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex``; ``$and``/``$or`` lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from gittrack.errors import InvalidSettingError

_MISSING = object()


class _Run(Protocol):
    @property
    def config(self) -> dict[str, Any]: ...

    @property
    def summary(self) -> dict[str, Any]: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


def matches(run: _Run, filters: Mapping[str, Any]) -> bool:
    for field, condition in filters.items():
        if field == "$and":
            if not all(matches(run, f) for f in condition):
                return False
        elif field == "$or":
            if not any(matches(run, f) for f in condition):
                return False
        elif not _test(field, _lookup(run, field), condition):
            return False
    return True


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


def _test(field: str, value: Any, condition: Any) -> bool:
    if isinstance(condition, Mapping) and condition and all(
        isinstance(k, str) and k.startswith("$") for k in condition
    ):
        return all(_op(field, op, value, arg) for op, arg in condition.items())
    return _equal(field, value, condition)


def _equal(field: str, value: Any, wanted: Any) -> bool:
    if field == "tags" and isinstance(value, list) and not isinstance(wanted, list):
        return wanted in value
    return value is not _MISSING and value == wanted


def _op(field: str, op: str, value: Any, arg: Any) -> bool:
    if op == "$exists":
        return (value is not _MISSING and value is not None) == bool(arg)
    if op == "$eq":
        return _equal(field, value, arg)
    if op == "$ne":
        return not _equal(field, value, arg)
    if op == "$in":
        return any(_equal(field, value, a) for a in arg)
    if op == "$nin":
        return not any(_equal(field, value, a) for a in arg)
    if op == "$regex":
        return isinstance(value, str) and re.search(arg, value) is not None
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if value is _MISSING or value is None:
            return False
        try:
            return bool({"$gt": value > arg, "$gte": value >= arg, "$lt": value < arg,
                         "$lte": value <= arg}[op])
        except TypeError:
            return False
    raise InvalidSettingError(f"unknown filter operator {op!r} on {field!r}")


def parse_cli_filter(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` (``config.lr=0.01``) from the command line; VALUE read as YAML."""
    from gittrack.formats import yamlio

    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise InvalidSettingError(f"filter {text!r} must look like KEY=VALUE (e.g. lr=0.01)")
    value = yamlio.load(raw, what=f"filter value {raw!r}") if raw else ""
    return key, value
