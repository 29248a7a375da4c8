"""Comparing two runs: what changed in config, summary and metadata, how the metrics moved
(good or bad by the goal each metric recorded), the data versions each used, and which code
commits lie between them. Noise (duration, timestamps, runtime) only when asked.

>>> d = diff_runs(repo, resolve_run(repo, "baseline"), resolve_run(repo, "candidate"))
...                                                                       # doctest: +SKIP
>>> [c.key for c in d.config]                                             # doctest: +SKIP
['lr', 'optimizer.momentum']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from gittrack.formats.display import flatten, is_number
from gittrack.formats.table import RUNTIME, SYSTEM_COLUMNS, TIMESTAMP
from gittrack.git.history import CommitLine, is_commit, walk_range
from gittrack.git.repo import Repository
from gittrack.runs.goals import Goal, Verdict, goal_for, goals, verdict
from gittrack.runs.lineage import artifact_specs
from gittrack.runs.view import RunView

if TYPE_CHECKING:
    import pyarrow as pa

ChangeKind = Literal["added", "removed", "changed"]
CodeStatus = Literal["compared", "same", "unknown"]

MAX_COMMITS = 50
"""Code commits listed in a diff; the rest are counted in ``CodeRange.more``."""

METADATA_KEYS = (
    "project", "state", "exit_code", "duration", "steps",
    "code.commit", "code.branch", "code.remote", "code.dirty",
    "group", "job_type", "tags", "notes", "resumed",
    "host", "user", "os", "python", "gittrack_version", "program", "args",
)
"""The ``run.yaml`` fields a diff compares, in display order (id and name head the diff)."""

NOISE_METADATA = ("duration", "created_at", "ended_at", "updated_at")
"""``run.yaml`` fields that differ between any two runs: shown only with ``noise=True``."""
NOISE_KEYS = (RUNTIME, TIMESTAMP)
"""Summary keys and history columns that are noise (``_runtime``, ``_timestamp``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RunRef:
    """Which run a side of the diff is: id, name and the checkpoint commit read, the code
    commit and branch it ran on (``None`` when not recorded) and the versions it used."""

    id: str
    name: str
    commit: str
    code_commit: str | None = None
    branch: str | None = None
    used: tuple[str, ...] = ()

    @classmethod
    def of(cls, view: RunView) -> RunRef:
        code = view.info.code or {}
        return cls(id=view.id, name=view.name, commit=view.commit,
                   code_commit=_str_or_none(code.get("commit")),
                   branch=_str_or_none(code.get("branch")),
                   used=tuple(artifact_specs(view.metadata, "used")))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One key that differs: ``added`` (only in B), ``removed`` (only in A) or ``changed``;
    ``goal`` is the metric's recorded goal (summary keys), which makes the change good or bad."""

    key: str
    kind: ChangeKind
    a: Any = None
    b: Any = None
    goal: Goal | None = None

    @property
    def verdict(self) -> Verdict | None:
        """``good``/``bad``/``neutral`` for a numeric change (``None`` otherwise)."""
        return verdict(self.delta, self.goal)

    @property
    def delta(self) -> float | None:
        """``b - a`` when both sides are numbers, else ``None``."""
        return delta(self.a, self.b) if self.kind == "changed" else None

    @property
    def relative(self) -> float | None:
        """``(b - a) / |a|`` when both are numbers and ``a`` is finite and non-zero."""
        return relative(self.a, self.b) if self.kind == "changed" else None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "a": self.a, "b": self.b,
                "delta": self.delta, "relative": self.relative, "goal": self.goal,
                "verdict": self.verdict}


@dataclasses.dataclass(frozen=True, slots=True)
class MetricStats:
    """One history key in one run: last value (in logging order), min and max, value count.

    NaN is left out of min and max unless every value is NaN; nulls (steps without the key)
    are skipped everywhere.
    """

    last: float | int | None
    min: float | int | None
    max: float | int | None
    count: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class MetricDelta:
    """A numeric history key present in A, B or both, with the deltas of its statistics."""

    key: str
    a: MetricStats | None
    b: MetricStats | None
    goal: Goal | None = None

    @property
    def verdict(self) -> Verdict | None:
        """The last value's move judged by the recorded goal (``None`` without both)."""
        return verdict(self.deltas()["last"], self.goal)

    def deltas(self) -> dict[str, float | None]:
        """``last``, ``min`` and ``max`` deltas (``None`` when a side lacks the key)."""
        if self.a is None or self.b is None:
            return dict.fromkeys(("last", "min", "max"))
        return {"last": delta(self.a.last, self.b.last), "min": delta(self.a.min, self.b.min),
                "max": delta(self.a.max, self.b.max)}

    @property
    def changed(self) -> bool:
        """Present in one run only, or a different last, min or max (the count alone is not)."""
        if self.a is None or self.b is None:
            return self.a is not self.b
        return not same((self.a.last, self.a.min, self.a.max),
                        (self.b.last, self.b.min, self.b.max))

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "a": None if self.a is None else self.a.to_dict(),
                "b": None if self.b is None else self.b.to_dict(), "delta": self.deltas(),
                "goal": self.goal, "verdict": self.verdict}


@dataclasses.dataclass(frozen=True, slots=True)
class CodeCommit:
    sha: str
    short: str
    subject: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class CodeRange:
    """The code commits from A's code commit to B's (``git log A..B``), oldest first.

    ``status`` is ``same`` when both ran on one commit, ``unknown`` when either commit is not
    recorded or not in this repository (not fetched, or rewritten away). ``behind`` counts the
    commits of A that B lacks (``git log B..A``): non-zero when B ran on older or diverged code.
    """

    a: str | None
    b: str | None
    status: CodeStatus
    commits: tuple[CodeCommit, ...] = ()
    more: int = 0
    behind: int = 0

    @property
    def ahead(self) -> int:
        return len(self.commits) + self.more

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "status": self.status,
                "commits": [c.to_dict() for c in self.commits], "more": self.more,
                "ahead": self.ahead, "behind": self.behind}


@dataclasses.dataclass(frozen=True, slots=True)
class RunDiff:
    """Everything that differs between run A and run B (B is the "new" side: delta = B - A).
    ``data`` compares the versions each used by artifact name (``data:v0`` → ``data:v1``)."""

    a: RunRef
    b: RunRef
    config: tuple[Change, ...]
    summary: tuple[Change, ...]
    metadata: tuple[Change, ...]
    metrics: tuple[MetricDelta, ...]
    code: CodeRange
    data: tuple[Change, ...] = ()

    @property
    def changed_metrics(self) -> tuple[MetricDelta, ...]:
        return tuple(m for m in self.metrics if m.changed)

    @property
    def is_empty(self) -> bool:
        """No config, summary, metadata, metric or code difference at all."""
        return not (self.config or self.summary or self.metadata or self.changed_metrics
                    or self.data or self.code.ahead or self.code.behind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(), "b": self.b.to_dict(),
            "config": [c.to_dict() for c in self.config],
            "summary": [c.to_dict() for c in self.summary],
            "metadata": [c.to_dict() for c in self.metadata],
            "metrics": [m.to_dict() for m in self.metrics],
            "data": [c.to_dict() for c in self.data],
            "code": self.code.to_dict(),
        }


def diff_runs(repo: Repository, a: RunView, b: RunView, *, noise: bool = False) -> RunDiff:
    """Compare run ``a`` (the baseline) with run ``b``; ``noise`` adds the duration and
    timestamps (``run.yaml``'s, the summary's ``_runtime`` and ``_timestamp``)."""
    meta_a, meta_b = flatten(a.metadata), flatten(b.metadata)
    recorded = goals([a, b])
    meta_keys = list(dict.fromkeys([*METADATA_KEYS, *NOISE_METADATA])) if noise else [
        k for k in METADATA_KEYS if k not in NOISE_METADATA]
    summary = compare(_plain(flatten(a.summary), noise), _plain(flatten(b.summary), noise))
    stats = metric_deltas(metric_stats(a.history_arrow()), metric_stats(b.history_arrow()))
    return RunDiff(
        a=RunRef.of(a), b=RunRef.of(b),
        config=compare(flatten(a.config), flatten(b.config)),
        summary=tuple(dataclasses.replace(c, goal=goal_for(c.key, recorded)) for c in summary),
        metadata=compare(meta_a, meta_b, keys=meta_keys),
        metrics=tuple(dataclasses.replace(m, goal=goal_for(m.key, recorded)) for m in stats),
        code=code_range(repo, _str_or_none(meta_a.get("code.commit")),
                        _str_or_none(meta_b.get("code.commit"))),
        data=compare(_used(a), _used(b)),
    )


def _plain(summary: dict[str, Any], noise: bool) -> dict[str, Any]:
    return summary if noise else {k: v for k, v in summary.items() if k not in NOISE_KEYS}


def _used(view: RunView) -> dict[str, str]:
    """The versions ``view`` used by artifact name (``{"data": "data:v1"}``; two versions of
    one name joined by a comma)."""
    out: dict[str, str] = {}
    for spec in artifact_specs(view.metadata, "used"):
        name = spec.rpartition(":")[0] or spec
        out[name] = f"{out[name]}, {spec}" if name in out else spec
    return out


# -- values ---------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equality as a reader means it: NaN equals NaN, ``True`` is not ``1``, deep for containers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def delta(a: Any, b: Any) -> float | None:
    """``b - a`` for two numbers (stored ints are 64-bit: no overflow), else ``None``."""
    if not (is_number(a) and is_number(b)):
        return None
    return b - a


def relative(a: Any, b: Any) -> float | None:
    if not (is_number(a) and is_number(b)) or a == 0 or not math.isfinite(a):
        return None
    return (float(b) - float(a)) / abs(float(a))


def compare(
    a: Mapping[str, Any], b: Mapping[str, Any], keys: Iterable[str] | None = None
) -> tuple[Change, ...]:
    """Changes from ``a`` to ``b`` over ``keys`` (default: A's keys, then B's new ones)."""
    order = keys if keys is not None else [*a, *(k for k in b if k not in a)]
    changes = []
    for key in order:
        if key not in a and key not in b:
            continue
        if key not in a:
            changes.append(Change(key, "added", None, b[key]))
        elif key not in b:
            changes.append(Change(key, "removed", a[key], None))
        elif not same(a[key], b[key]):
            changes.append(Change(key, "changed", a[key], b[key]))
    return tuple(changes)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# -- metrics --------------------------------------------------------------------------------


def metric_stats(history: pa.Table) -> dict[str, MetricStats]:
    """``MetricStats`` of every numeric (bool, int, float) history key, in column order."""
    import pyarrow as pa

    out = {}
    for field in history.schema:
        if field.name in SYSTEM_COLUMNS:
            continue
        kind = field.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            out[field.name] = _stats(history.column(field.name))
    return out


def _stats(column: pa.ChunkedArray) -> MetricStats:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(column.type):
        column = column.cast(pa.int64())
    values = pc.drop_null(column)
    if len(values) == 0:
        return MetricStats(last=None, min=None, max=None, count=0)
    bounds = pc.min_max(values).as_py()
    return MetricStats(last=values[len(values) - 1].as_py(), min=bounds["min"],
                       max=bounds["max"], count=len(values))


def metric_deltas(
    a: Mapping[str, MetricStats], b: Mapping[str, MetricStats]
) -> tuple[MetricDelta, ...]:
    keys = [*a, *(k for k in b if k not in a)]
    return tuple(MetricDelta(k, a.get(k), b.get(k)) for k in keys)


# -- code -----------------------------------------------------------------------------------


def code_range(repo: Repository, a: str | None, b: str | None) -> CodeRange:
    """The commits between two code commits (``git log --reverse a..b``), capped."""
    if a is not None and a == b:
        return CodeRange(a, b, "same")
    if a is None or b is None or not is_commit(repo, a) or not is_commit(repo, b):
        return CodeRange(a, b, "unknown")
    listed: list[CodeCommit] = []
    more = 0
    for commit in walk_range(repo, b, hide=a, oldest_first=True):
        if len(listed) < MAX_COMMITS:
            listed.append(_describe(commit))
        else:
            more += 1
    behind = sum(1 for _ in walk_range(repo, a, hide=b, oldest_first=False))
    return CodeRange(a, b, "compared", tuple(listed), more, behind)


def _describe(commit: CommitLine) -> CodeCommit:
    return CodeCommit(sha=commit.sha, short=commit.short, subject=commit.subject)


# -- saved code (``diff --code``) -------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SavedPatch:
    """One run's saved code as a diff shows it: whether it saved any, its patch against its
    code commit (``None`` when not saved or too large), and the names of its files."""

    commit: str | None
    saved: bool
    patch: bytes | None = None
    files: tuple[str, ...] = ()

    def text(self) -> str | None:
        """The patch as text (bytes that are not UTF-8 shown as U+FFFD)."""
        return None if self.patch is None else self.patch.decode("utf-8", "replace")

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "saved": self.saved, "files": list(self.files),
                "patch": self.text()}


def saved_patch(view: RunView) -> SavedPatch:
    """``view``'s saved code (``save_code``), for ``gittrack diff --code``."""
    commit = _str_or_none((view.info.code or {}).get("commit"))
    code = view.code()
    if code is None:
        return SavedPatch(commit, saved=False)
    return SavedPatch(commit, saved=True, patch=code.patch, files=tuple(sorted(code.files)))
