"""``run.yaml`` as a value: ``RunInfo``, its checks, and the ``RunState`` enum.

One owner for the shape of ``run.yaml`` (docs/format.md): the live run writes it through
``RunInfo``, and the checkpoint reader, the index, the view and recovery read it as one.
A ``RunInfo`` keeps the document it was made from (key order and keys this version does not
know: "unknown keys must be ignored by readers"), so ``to_yaml`` gives back the same bytes;
its typed fields are checked views of that document, never set apart from it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from gittrack.errors import FormatError
from gittrack.formats import yamlio
from gittrack.formats.display import is_int, is_number
from gittrack.runs import layout
from gittrack.types import CommitId, RunId


class RunState(str, enum.Enum):
    """A run's ``state`` in ``run.yaml``. A ``str``: ``run.state == "finished"`` holds, filters
    such as ``{"state": "finished"}`` match it, and it prints as its value (``enum.StrEnum``
    is Python 3.11's; gittrack runs on 3.10)."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CRASHED = "crashed"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def ended(cls, exit_code: int) -> RunState:
        """The state ``finish(exit_code)`` leaves a run in."""
        return cls.FINISHED if exit_code == 0 else cls.FAILED


# The shape of each run.yaml field that gittrack writes (docs/format.md): a forged run.yaml
# of any other shape is refused here, once, instead of breaking whatever reader meets it.
_Check = Callable[[Any], bool]


def _opt(check: _Check) -> _Check:
    return lambda v: v is None or check(v)


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _seconds(v: Any) -> bool:
    """A duration gittrack writes: a finite number of seconds, not negative."""
    return is_number(v) and math.isfinite(v) and v >= 0


def _texts(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _fields(**checks: _Check) -> _Check:
    return lambda v: isinstance(v, dict) and all(k not in v or c(v[k]) for k, c in checks.items())


def _map_of(check: _Check) -> _Check:
    return lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and check(x) for k, x in v.items())


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float))


def _metric(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) for k in v) and _fields(
        summary=_opt(_texts), step_metric=_opt(_text))(v)


_TEXTS = ("name", "project", "group", "job_type", "notes", "created_at", "updated_at",
          "ended_at", "host", "user", "os", "python", "executable", "program", "cwd",
          "gittrack_version", "resumed_at")
_INTS = ("exit_code", "pid", "steps", "resumed")

SHAPES: dict[str, _Check] = {
    "id": _text, "state": _text, "format": is_int,
    **dict.fromkeys(_TEXTS, _opt(_text)),
    **dict.fromkeys(_INTS, _opt(is_int)),
    "duration": _opt(_seconds),
    "tags": _opt(_texts), "args": _opt(_texts),
    "code": _opt(lambda v: _map_of(_scalar)(v) and _fields(
        commit=_opt(_text), branch=_opt(_text), remote=_opt(_text),
        dirty=_opt(lambda d: isinstance(d, bool)), saved=_opt(lambda d: isinstance(d, bool)),
        entrypoint=_opt(_text))(v)),
    "metrics": _opt(_map_of(_metric)),
    "artifacts": _opt(_map_of(_texts)),
    "artifact_commits": _opt(_map_of(_texts)),
}
"""Each field's check; a field may be absent (``id`` aside: ``from_yaml`` requires it)."""


def _state(value: str | None) -> RunState | str | None:
    """A state this version knows, as ``RunState``; another string is kept as it is (a reader
    shows it), as it was before the enum."""
    try:
        return None if value is None else RunState(value)
    except ValueError:
        return value


def _plain(value: Any) -> Any:
    """A value to store: ``RunState`` as its string (YAML's safe dumper takes no ``str``
    subclass), tuples as lists."""
    if isinstance(value, RunState):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class RunInfo:
    """One ``run.yaml``, checked: made by ``from_yaml`` (or ``replace``/``without``).

    ``document`` is the whole mapping as read or written; the other fields are its values
    with their types (absent fields are ``None``, absent lists empty).
    """

    document: Mapping[str, Any] = dataclasses.field(repr=False)
    id: RunId
    format: int
    state: RunState | str | None
    """A ``RunState``; any other string only in a document gittrack did not write."""
    name: str | None
    project: str | None
    group: str | None
    job_type: str | None
    notes: str | None
    tags: tuple[str, ...]
    created_at: str | None
    updated_at: str | None
    ended_at: str | None
    duration: float | None
    exit_code: int | None
    steps: int | None
    resumed: int | None
    resumed_at: str | None
    code: Mapping[str, Any] | None
    metrics: Mapping[str, Mapping[str, Any]]
    artifacts: Mapping[str, tuple[str, ...]]
    host: str | None
    user: str | None
    os: str | None
    python: str | None
    executable: str | None
    program: str | None
    args: tuple[str, ...]
    cwd: str | None
    pid: int | None
    gittrack_version: str | None

    @classmethod
    def from_yaml(
        cls, doc: Any, commit: CommitId | None = None, run_id: RunId | None = None
    ) -> RunInfo:
        """``doc`` (a parsed ``run.yaml``) checked: ``FormatError`` naming ``commit``'s file
        and the field unless every field gittrack writes has its shape, the format is one
        this version reads, and (with ``run_id``) ``id`` is that of the ref it came from."""
        where = layout.RUN_YAML if commit is None else f"{layout.RUN_YAML} of commit {commit[:12]}"
        if not isinstance(doc, dict):
            raise FormatError(f"{where} is a {type(doc).__name__}, not a mapping")
        if "id" not in doc:
            raise FormatError(f"{where} has no id")
        check(doc, where, run_id)
        return cls.written(doc)

    @classmethod
    def written(cls, doc: Mapping[str, Any]) -> RunInfo:
        """The document this process is writing, made from checked parts, as it is: readers
        check it (``from_yaml``), and a writer that refused it (a negative ``duration`` after
        the clock went back) would lose the run's checkpoints."""
        get = doc.get
        return cls(
            document=MappingProxyType(dict(doc)), id=RunId(doc["id"]), format=doc["format"],
            state=_state(get("state")), name=get("name"), project=get("project"),
            group=get("group"), job_type=get("job_type"), notes=get("notes"),
            tags=tuple(get("tags") or ()), created_at=get("created_at"),
            updated_at=get("updated_at"), ended_at=get("ended_at"), duration=get("duration"),
            exit_code=get("exit_code"), steps=get("steps"), resumed=get("resumed"),
            resumed_at=get("resumed_at"), code=get("code"), metrics=get("metrics") or {},
            artifacts={k: tuple(v) for k, v in (get("artifacts") or {}).items()},
            host=get("host"), user=get("user"), os=get("os"), python=get("python"),
            executable=get("executable"), program=get("program"), args=tuple(get("args") or ()),
            cwd=get("cwd"), pid=get("pid"), gittrack_version=get("gittrack_version"),
        )

    def as_dict(self) -> dict[str, Any]:
        """The document as a new dict (what ``RunView.metadata`` hands out)."""
        return dict(self.document)

    def to_yaml(self) -> bytes:
        """The ``run.yaml`` file: the document's keys in its order, as gittrack dumps YAML."""
        return yamlio.dump(self.as_dict())

    def replace(self, **fields: Any) -> RunInfo:
        """This document with ``fields`` set (a new key goes last), checked again."""
        return RunInfo.from_yaml({**self.document, **{k: _plain(v) for k, v in fields.items()}})

    def without(self, keys: Iterable[str]) -> RunInfo:
        """This document without ``keys``."""
        gone = set(keys)
        return RunInfo.from_yaml({k: v for k, v in self.document.items() if k not in gone})


def check_format(doc: Mapping[str, Any]) -> None:
    """``FormatError`` unless ``run.yaml`` names a format this gittrack reads: this one
    (``layout.FORMAT``) or an earlier one (docs/format.md, "Versions")."""
    version = doc.get("format")
    if not isinstance(version, int) or version > layout.FORMAT:
        raise FormatError(
            f"run {doc.get('id')} uses format {version!r}; this gittrack reads format "
            f"{layout.FORMAT}: upgrade gittrack"
        )


def check(doc: Mapping[str, Any], where: str, run_id: RunId | None = None) -> None:
    """``FormatError`` unless the fields of ``run.yaml`` that readers use have their types,
    and (with ``run_id``) ``id`` is the id of the ref the commit is on."""
    check_format(doc)
    for key, shape in SHAPES.items():
        if key in doc and not shape(doc[key]):
            raise FormatError(f"{where}: {key} is not what gittrack writes there "
                              f"(a {type(doc[key]).__name__})")
    if run_id is not None and doc["id"] != run_id:
        raise FormatError(f"{where} says it is run {doc['id']!r}, but it is on the ref of "
                          f"run {run_id}")


class RunFields:
    """The ``run.yaml`` properties ``Run`` and ``RunView`` share, read from ``.info``."""

    __slots__ = ()

    @property
    def info(self) -> RunInfo:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return str(self.info.name)

    @property
    def project(self) -> str | None:
        return self.info.project

    @property
    def group(self) -> str | None:
        return self.info.group

    @property
    def job_type(self) -> str | None:
        return self.info.job_type

    @property
    def notes(self) -> str | None:
        return self.info.notes
