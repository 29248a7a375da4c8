"""YAML as gittrack writes and reads it: block style, unicode, insertion order, libyaml.

Every YAML file gittrack reads goes through ``load``, and much of it comes from a remote (a
pulled run's ``config.yaml``, an artifact's ``artifact.yaml``, a teammate's ``members.yaml``).
gittrack never writes anchors, aliases or tags, so ``load`` refuses them, and bounds the size
and the nesting depth, before anything is built (docs/format.md, "YAML"):

- an alias makes a 480-byte document expand to billions of nodes when walked ("billion
  laughs"), and a tag asks for a type gittrack does not store;
- libyaml's composer recurses in C: 100,000 nested ``[`` (200 KB) crash the interpreter, so
  the depth is checked on the parser's flat event stream, before composing.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from gittrack.errors import FormatError

# PyYAML is imported on first use: commands that only move refs (a no-op push or pull) never
# read YAML, and start faster without it (docs/decisions.md, "Start-up").

MAX_BYTES = 16 * 1024 * 1024
"""The largest YAML document ``load`` reads (a run's config is usually a few KB). Writers keep
below it: every bound of what a user may store in YAML is a share of it (``formats.values``;
docs/format.md, "Bounds"), so nothing acknowledged is ever refused by a reader."""

MAX_DEPTH = 200
"""The deepest nesting of lists and mappings ``load`` reads."""

_CORE = "tag:yaml.org,2002:"
# Tags a document may spell out: the types gittrack writes (plain YAML never needs more).
_ALLOWED_TAGS = frozenset(_CORE + t for t in ("null", "bool", "int", "float", "str", "seq", "map"))


@functools.cache
def _codec() -> tuple[Any, Any]:
    """``(dumper, loader)``: libyaml's when PyYAML was built with it."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return dumper, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump(data: Any) -> bytes:
    import yaml

    text = yaml.dump(
        data, Dumper=_codec()[0], sort_keys=False, allow_unicode=True, default_flow_style=False,
        width=100,
    )
    return text.encode("utf-8")


def load(raw: bytes | str, *, what: str = "YAML") -> Any:
    """The document in ``raw``; ``FormatError`` naming ``what`` when it cannot be read, is
    larger than ``MAX_BYTES``, nested deeper than ``MAX_DEPTH``, or has an anchor, an alias or
    a tag gittrack does not write."""
    import yaml

    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise FormatError(f"cannot read {what}: {size:,} bytes is more than the "
                          f"{MAX_BYTES:,} a YAML document may have")
    try:
        if not _plain(raw):
            _check_events(yaml.parse(raw, Loader=_codec()[1]), what)
        return yaml.load(raw, Loader=_codec()[1])
    except yaml.YAMLError as exc:  # libyaml's message spans lines: one line, as all errors
        text = " ".join(str(exc).split())
        if "nesting depth" in text:  # PyYAML >= 6.0.4 stops a deep flow collection first
            text = f"nested more than {MAX_DEPTH} levels deep ({text})"
        raise FormatError(f"cannot read {what}: {text}") from None
    except RecursionError:  # a constructor of PyYAML's pure-Python fallback
        raise FormatError(f"cannot read {what}: nested too deeply") from None


_SHORT_LINE = MAX_DEPTH // 2 - 4
"""Lines shorter than this cannot nest block collections ``MAX_DEPTH`` deep (``_plain``)."""
# an empty flow collection (``args: []``, ``metrics: {}``, as ``dump`` writes them) is one
# level on its line, within the bound's margin
_MARKS = re.compile(r"[&*!]|\[(?!\])|\{(?!\})")
_MARK_BYTES = re.compile(rb"[&*!]|\[(?!\])|\{(?!\})")


def _plain(raw: bytes | str) -> bool:
    """Whether ``raw`` surely has nothing ``_check_events`` refuses, so that its pass over the
    events (a third of the time ``load`` takes) is not needed: no anchor (``&``), alias (``*``)
    or tag (``!``) can be written without its character, nor a flow collection without ``[`` or
    ``{`` (but for an empty one); and in block style each level of nesting takes at least one
    more column of indentation, or two characters of a ``- ``/``? ``/``: `` indicator on the
    line (a zero-indented sequence shares its mapping's column: two levels a column), so a
    document whose lines are at most L characters nests at most 2L + 4 deep: less than
    ``MAX_DEPTH`` for lines shorter than ``_SHORT_LINE``. Only ``\n`` is taken as a line break:
    another (``\r``, NEL, U+2028) only makes a line look longer, as does another encoding, so
    such a document is checked."""
    if isinstance(raw, bytes):
        return _MARK_BYTES.search(raw) is None and max(map(len, raw.split(b"\n"))) < _SHORT_LINE
    return _MARKS.search(raw) is None and max(map(len, raw.split("\n"))) < _SHORT_LINE


def _check_events(events: Any, what: str) -> None:
    import yaml

    depth = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise FormatError(f"cannot read {what}: it has YAML anchors or aliases (&, *), "
                              f"which gittrack never writes{_where(event)}")
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _ALLOWED_TAGS and tag != "!":
            raise FormatError(f"cannot read {what}: YAML tag {tag!r} is not allowed"
                              f"{_where(event)}")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise FormatError(f"cannot read {what}: nested more than {MAX_DEPTH} levels "
                                  f"deep{_where(event)}")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _where(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
