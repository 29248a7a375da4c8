"""A run's recorded state, advanced only by records, so that replaying the WAL rebuilds it.

Records (tuples, as written to the write-ahead log)::

    ("log", seq, time, step | None, commit | None, {key: value})
    ("config", seq, {key: value})          ("config_del", seq, [key, ...])
    ("summary", seq, {key: value})         ("summary_del", seq, [key, ...])
    ("define", seq, name, {spec})          ("meta", seq, {field: value})
    ("artifact", seq, {"used" | "logged": "name:vN"})
    ("media", seq, time, step, {key: [item, ...]})   (``gittrack.runs.media``)
    ("system", seq, time, {key: value})     (a sample of system metrics: ``gittrack.runs.system``)

Step semantics are Weights & Biases': without ``step`` a call merges into the open step and
commits it unless ``commit=False``; with a ``step`` ahead of the open one, the open step is
committed first and the call opens the new one, which stays open (for more keys at the same
step) until a higher step, ``commit=True`` or ``finish``. Unlike W&B, a step lower than the open
one is not dropped: it becomes a row of its own, in arrival order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gittrack.formats.histogram import Histogram
from gittrack.formats.values import MAX_SUMMARY_STRING, kind_of, summary_value
from gittrack.runs.buffer import HistoryBuffer
from gittrack.runs.summary import MetricSpec, SummaryTracker

if TYPE_CHECKING:
    import pyarrow as pa

HistogramRow = tuple[str, int, float, list[float], list[float]]


@dataclasses.dataclass(slots=True)
class Extra:
    """What one kind of run data adds to a checkpoint beside history and histograms: chunks
    for its folder (``layout.CHUNK_DIRS``: system metrics, the media index, console parts) and
    whole files (``code/manifest.parquet``)."""

    tables: dict[str, list[pa.Table]] = dataclasses.field(default_factory=dict)
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)


Maker = Callable[[], Extra]
"""Makes an ``Extra`` in the checkpoint thread, outside the run's lock (encoding media, storing
blobs): called again if the checkpoint is retried, so it must give the same result twice."""


@dataclasses.dataclass(slots=True)
class Snapshot:
    """What one checkpoint writes: rows taken from the buffer, and copies of the rest."""

    seq: int
    start_time: float
    history: HistoryBuffer
    histograms: list[HistogramRow]
    config: dict[str, Any]
    summary: dict[str, Any]
    meta: dict[str, Any]
    metrics: dict[str, Any]
    resume: dict[str, Any]
    artifacts: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    extras: list[Maker] = dataclasses.field(default_factory=list)


class LiveState:
    def __init__(self, start_time: float) -> None:
        self.start_time = start_time
        self.step = 0
        self.pending: dict[str, Any] = {}
        self.pending_histogram = False
        self.pending_floats = False  # whether every pending value is a float (HistoryBuffer)
        self.pending_time = start_time
        self.buffer = HistoryBuffer()
        self.histograms: list[HistogramRow] = []
        self.summary = SummaryTracker()
        self.config: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}
        self.out_of_order = 0
        self.seq = 0
        self.artifacts: dict[str, list[str]] = {}  # lineage: "used"/"logged" → ["name:vN"]
        self.writer: str | None = None  # the token of the write-ahead log ``seq`` counts in
        self.media: list[tuple[Any, ...]] = []  # media records since the last snapshot
        # records -> the Maker that stores them (``runs.media.maker_for``), set by the run
        # and by recovery: it knows the spool folder and the run's blob store
        self.media_maker: Callable[[list[tuple[Any, ...]]], Maker] | None = None
        self.extras: list[Maker] = []  # for the next checkpoint only (saved code)
        self.system: list[tuple[int, float, dict[str, float]]] = []  # samples (runs.system)

    # -- records -------------------------------------------------------------------------
    def apply(self, record: tuple[Any, ...]) -> None:
        kind, seq = record[0], record[1]
        self.seq = seq
        if kind == "log":
            data = record[5]
            for key, value in data.items():  # the live path registers kinds itself
                if key not in self.kinds:
                    self.kinds[key] = kind_of(value)
            has_histogram = any(type(v) is Histogram for v in data.values())
            self.log(record[2], record[3], record[4], data, has_histogram)
        elif kind == "config":
            self.config.update(record[2])
        elif kind == "config_del":
            for key in record[2]:
                self.config.pop(key, None)
        elif kind == "summary":
            self.summary.values.update(record[2])
        elif kind == "summary_del":
            for key in record[2]:
                self.summary.values.pop(key, None)
        elif kind == "define":
            self.summary.define(MetricSpec.from_dict(record[2], record[3]))
        elif kind == "meta":
            self.meta.update(record[2])
        elif kind == "media":
            self.media.append(record)
        elif kind == "artifact":
            for role, spec in record[2].items():
                specs = self.artifacts.setdefault(role, [])
                if spec not in specs:
                    specs.append(spec)
        elif kind == "system":  # stamped with the open step, here and when replayed
            self.system.append((self.step, record[2], record[3]))

    def log(
        self, t: float, step: int | None, commit: bool | None, data: dict[str, Any],
        has_histogram: bool = False, floats: bool = False,
    ) -> None:
        """Apply one ``log()`` call; ``data`` becomes the state's own (the caller drops it).
        ``floats``: every value of ``data`` is a ``float`` (``Normalizer.floats``)."""
        if not has_histogram and not self.pending_histogram:
            # The common cases, inlined (the same as the general path below, in fewer calls).
            if step is None:
                if commit is not False and not self.pending:  # one call is one whole step
                    self.buffer.append(self.step, t, data, floats)
                    self.step += 1
                    self.summary.update(data, False)
                    return
            elif step > self.step and not commit:  # log(d, step=i): commits the open step
                pending = self.pending
                if pending:
                    self.buffer.append(self.step, self.pending_time, pending,
                                       self.pending_floats)
                    summary = self.summary
                    if summary.specs:
                        summary.update(pending, False)
                    else:  # no define_metric: the summary is the last values
                        summary.values.update(pending)
                self.step, self.pending, self.pending_time = step, data, t
                self.pending_floats = floats
                return
        if step is None:
            self._merge(t, data, has_histogram, floats)
            if commit is None or commit:
                self.flush()
        elif step < self.step:
            self.out_of_order += 1
            self._emit(step, t, data, has_histogram, floats)
        else:
            if step > self.step:
                self.flush(advance=False)
                self.step = step
            self._merge(t, data, has_histogram, floats)
            if commit:
                self.flush()

    def _merge(self, t: float, data: dict[str, Any], has_histogram: bool,
               floats: bool = False) -> None:
        self.pending_floats = floats and (self.pending_floats or not self.pending)
        if self.pending:
            self.pending.update(data)
            self.pending_histogram = self.pending_histogram or has_histogram
        else:
            self.pending = data
            self.pending_histogram = has_histogram
        self.pending_time = t

    def flush(self, advance: bool = True) -> None:
        """Commit the open step (if it has data) and, unless told not to, open the next."""
        if self.pending:
            self._emit(self.step, self.pending_time, self.pending, self.pending_histogram,
                       self.pending_floats)
            self.pending = {}
            self.pending_histogram = False
            self.step += 1
        elif advance:
            self.step += 1

    def _emit(self, step: int, t: float, data: dict[str, Any], has_histogram: bool,
              floats: bool = False) -> None:
        scalars = data
        if has_histogram:
            scalars = {}
            for key, value in data.items():
                if type(value) is Histogram:
                    self.histograms.append((key, step, t, value.edges, value.counts))
                else:
                    scalars[key] = value
        if scalars:
            self.buffer.append(step, t, scalars, floats)
        self.summary.update(data, has_histogram)

    # -- checkpoints ---------------------------------------------------------------------
    def snapshot(self, final: bool = False) -> Snapshot:
        """Take buffered rows and copy the rest; ``final`` first commits the open step."""
        if final:
            self.flush(advance=False)
        histograms, self.histograms = self.histograms, []
        extras, self.extras = self.extras, []
        if self.media and self.media_maker is not None:
            records, self.media = self.media, []
            extras.append(self.media_maker(records))
        if self.system:
            from gittrack.runs import system

            extras.append(system.maker(self.system, self.start_time))
            self.system = []
        return Snapshot(
            seq=self.seq, start_time=self.start_time, history=self.buffer.take(),
            histograms=histograms,
            config=dict(self.config), summary=self._stored_summary(), meta=dict(self.meta),
            metrics={name: spec.to_dict() for name, spec in self.summary.specs.items()},
            resume=self.resume_dict(),
            artifacts={role: list(specs) for role, specs in self.artifacts.items()},
            extras=extras,
        )

    def _stored_summary(self) -> dict[str, Any]:
        """``summary.yaml``: the summary, with a string a key was logged with cut to
        ``MAX_SUMMARY_STRING`` characters (docs/format.md, "Bounds"; the history has it all)."""
        kinds, specs = self.kinds, self.summary.stats
        return {k: _cut(v, k in specs) if kinds.get(k) == "str" else v
                for k, v in self.summary.values.items()}

    def resume_dict(self) -> dict[str, Any]:
        """What ``resume.yaml`` holds: enough to continue the run exactly where it stopped."""
        pending = {k: (v.to_dict() if isinstance(v, Histogram) else v)
                   for k, v in self.pending.items()}
        resume: dict[str, Any] = {} if self.writer is None else {"writer": self.writer}
        return {
            **resume,
            "wal_seq": self.seq,
            "next_step": self.step,
            "pending": pending,
            "pending_time": self.pending_time,
            "kinds": dict(self.kinds),
            "stats": {k: {a: summary_value(x) for a, x in v.items()}
                      for k, v in self.summary.stats.items()},
            "out_of_order": self.out_of_order,
        }

    @classmethod
    def restore(
        cls, start_time: float, resume: dict[str, Any], config: dict[str, Any],
        summary: dict[str, Any], metrics: dict[str, Any], meta: dict[str, Any],
    ) -> LiveState:
        state = cls(start_time)
        state.seq = int(resume.get("wal_seq", 0))
        writer = resume.get("writer")
        state.writer = writer if isinstance(writer, str) else None
        state.step = int(resume.get("next_step", 0))
        state.kinds = dict(resume.get("kinds") or {})
        state.pending = {
            k: Histogram.from_bins(v["values"], v["bins"]) if state.kinds.get(k) == "histogram"
            else v for k, v in (resume.get("pending") or {}).items()
        }
        state.pending_histogram = any(type(v) is Histogram for v in state.pending.values())
        state.pending_time = float(resume.get("pending_time", start_time))
        state.out_of_order = int(resume.get("out_of_order", 0))
        state.config = dict(config)
        state.summary.values = dict(summary)
        state.summary.stats = {k: dict(v) for k, v in (resume.get("stats") or {}).items()}
        for name, spec in (metrics or {}).items():
            state.summary.define(MetricSpec.from_dict(name, spec))
        state.meta = dict(meta)
        return state


def _cut(value: Any, aggregated: bool) -> Any:
    """A string key's summary value as stored: its string, or its aggregates' strings, cut."""
    if aggregated and type(value) is dict:
        return {a: summary_value(x) for a, x in value.items()}
    if type(value) is str and len(value) > MAX_SUMMARY_STRING:
        return value[:MAX_SUMMARY_STRING]
    return value
