"""The live run: ``log()`` appends to a write-ahead log and a buffer; a thread checkpoints."""

from __future__ import annotations

import fnmatch
import logging
import operator
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from gittrack.errors import (
    GittrackError,
    GittrackWarning,
    InvalidKeyError,
    InvalidValueError,
    RunFinishedError,
    RunLockedError,
    StepOrderError,
    UsageError,
)
from gittrack.formats.histogram import Histogram
from gittrack.formats.values import (
    MAX_STRING_LENGTH,
    MAX_TAGS,
    Normalizer,
    check_document,
    check_field,
    check_label,
    check_text,
    entry_bytes,
    key_problem,
    plain_str,
    to_plain,
)
from gittrack.git.repo import Repository, reopen
from gittrack.runs import console, layout, media, system
from gittrack.runs.checkpoint import Checkpointer, run_document
from gittrack.runs.info import RunFields, RunInfo, RunState
from gittrack.runs.run_storage import RunStorage
from gittrack.runs.state import LiveState, Snapshot
from gittrack.runs.summary import MetricSpec
from gittrack.runs.wal import WalWriter
from gittrack.settings import Settings
from gittrack.types import CommitId, RefName, RunId

if TYPE_CHECKING:
    from gittrack.artifacts.artifact import Artifact
    from gittrack.artifacts.view import ArtifactVersion

log = logging.getLogger("gittrack")

_live_runs: weakref.WeakSet[Run] = weakref.WeakSet()
_STEPS = 2**63  # steps are non-negative 64-bit ints
_now = time.time


def _after_fork_in_child() -> None:
    # A forked child (a DataLoader worker, a multiprocessing pool) must not write to the
    # parent's run: its log() becomes a no-op with one warning, and it never checkpoints.
    for run in list(_live_runs):
        run._forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


class Run(RunFields):
    """A run being recorded. Made by ``gittrack.init()``; see ``docs/api.md``."""

    def __init__(
        self, *, repo: Repository, run_id: RunId, info: RunInfo, state: LiveState,
        wal: WalWriter, head: CommitId | None, settings: Settings,
        storage: RunStorage | None = None, clock: Callable[[], float] | None = None,
    ) -> None:
        self._repo = repo
        # the wall clock of log() and checkpoints; an importer passes the source's times
        self._clock = _now if clock is None else clock
        self._id = run_id
        self._info = info  # the facts of this process's start; each checkpoint adds the rest
        self._written = info  # run.yaml of the latest checkpoint (the first is written below)
        self._state = state
        self._wal = wal
        self._settings = settings
        self._checkpoint_rows = settings.checkpoint_rows
        self._normalizer = Normalizer(state.kinds, lambda key: _aggregated(state, key))
        self._open_text = sum(len(v) for v in state.pending.values() if type(v) is str)
        state.kinds = self._normalizer.kinds
        state.writer = wal.token  # checkpoints name the log their wal_seq counts in
        # one store for media, console and code (init() may have stored code already): a
        # private project's keys are unlocked once
        self._storage = storage if storage is not None else RunStorage(repo)
        self._spool = media.Spool(wal.directory)
        self._spooled = 0  # bytes of media spooled since the last snapshot
        state.media_maker = media.maker_for(wal.directory, self._storage)
        self._lock = threading.RLock()
        self._checkpoint_lock = threading.Lock()
        self._wake = threading.Event()
        self._rows_asked = False  # a checkpoint was asked for because the buffer is full
        self._stopping = False
        self._finished = False
        self._forked = False
        self._warned: set[str] = set()
        self._saved_files: Any = None  # runs.files.SavedFiles, on the first save()
        self._before_finish: list[Callable[[], None]] = []  # in finish(), before the last commit
        self._backlog: list[Snapshot] = []
        self._checkpointed_seq = -1
        self._extra_waiting = False
        self._checkpoint_error: BaseException | None = None
        self._exit_code: int | None = None
        self._pid = os.getpid()
        self._checkpointer = Checkpointer(repo, run_id, head)
        self.config = Config(self)
        self.summary = Summary(self)
        self._console: console.Capture | None = None
        self._sampler = system.sampler_for(run_id, settings, repo.path,
                                           lambda t, v: self._record(("system", 0, t, v)))
        self._checkpoint()  # the run is visible (state: running) before init() returns
        _live_runs.add(self)
        self._thread = threading.Thread(
            target=self._checkpoint_loop, name=f"gittrack-checkpoint-{run_id}", daemon=True
        )
        self._thread.start()
        if self._sampler is not None:
            self._sampler.start()
        self._start_console(head)

    def _start_console(self, head: CommitId | None) -> None:
        """Capture stdout and stderr (``settings.console``; docs/console.md)."""
        if not console.enabled(self._settings.console):
            return
        try:
            self._console = console.start(
                self._wal.directory / layout.CONSOLE_SPOOL,
                console.next_part(reopen(self._repo), head),  # the checkpoint thread has _repo
                mode=self._settings.console, max_bytes=self._settings.console_max_bytes,
                wake=self._wake.set)
        except (OSError, GittrackError) as exc:
            self._warn_once("console", f"gittrack: console capture is off for run {self._id}: "
                            f"{getattr(exc, 'strerror', None) or exc}")

    # -- identity ------------------------------------------------------------------------
    @property
    def id(self) -> RunId:
        return self._id

    @property
    def ref(self) -> RefName:
        return layout.run_ref(self._id)

    @property
    def info(self) -> RunInfo:
        """``run.yaml`` as of the latest checkpoint, with the name, notes and tags set since."""
        # No lock: a forked child may hold a copy of one taken at the fork; dict() of a dict
        # is one step under the GIL.
        meta = dict(self._state.meta)
        written = self._written
        return RunInfo.written({**written.document, **meta}) if meta else written

    @property
    def name(self) -> str:
        return str(self.info.name)

    @name.setter
    def name(self, value: str) -> None:
        if value is None:
            raise InvalidValueError("name must be a string, got None")
        self._set_meta("name", check_label("name", value))

    @property
    def notes(self) -> str | None:
        return self.info.notes

    @notes.setter
    def notes(self, value: str | None) -> None:
        self._set_meta("notes", check_notes(value))

    @property
    def tags(self) -> tuple[str, ...]:
        return self.info.tags

    @tags.setter
    def tags(self, value: Iterable[str]) -> None:
        self._set_meta("tags", check_tags(value))

    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step=`` goes to."""
        return self._state.step

    @property
    def state(self) -> RunState:
        if not self._finished or self._exit_code is None:
            return RunState.RUNNING
        return RunState.ended(self._exit_code)

    @property
    def commit(self) -> CommitId | None:
        """The latest checkpoint commit of this run."""
        return self._checkpointer.head

    def _set_meta(self, name: str, value: Any) -> None:
        self._record(("meta", 0, {name: value}))

    def __repr__(self) -> str:
        return f"<gittrack.Run {self.name!r} id={self._id} state={self.state}>"

    # -- recording -----------------------------------------------------------------------
    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Record ``data`` at a step. Returns once the data would survive ``kill -9``.

        Without ``step`` each call is one step (0, 1, 2, ...); ``commit=False`` keeps the step
        open for more keys. With ``step=`` the step stays open until a higher step is logged
        (Weights & Biases semantics). A lower step than the open one is kept, in arrival order,
        with a warning (``settings={"out_of_order": "raise"}`` refuses it instead).
        """
        if self._forked or self._finished:
            self._refuse("log")
            return
        if commit is not None and commit is not True and commit is not False:
            raise InvalidValueError(f"commit must be True, False or None, got {commit!r}")
        with self._lock:
            if self._finished:  # finish() ran in another thread while we waited for the lock
                self._refuse("log")
            state = self._state
            # before normalize(): a refused call must not register keys. A plain int at or
            # past the open step needs no more checks (the hot path: log(d, step=i)).
            if step is not None and (type(step) is not int or not state.step <= step < _STEPS):
                step = self._check_step(step)
            normalizer = self._normalizer
            try:
                values = normalizer.normalize(data)
                captured = None
            except InvalidValueError:  # media? only now looked for: numbers never pay for it
                found = media.split(data) if isinstance(data, Mapping) else None
                if found is None:
                    raise
                values = normalizer.normalize(found[0])
                captured = media.capture(found[1])
                lists = {k for k, v in found[1].items() if isinstance(v, list)}
            text = normalizer.text
            texty = text or self._open_text  # whether the open step's text needs counting
            if texty:
                aside = step is not None and step < state.step  # an out-of-order row of its own
                merges = bool(state.pending) and (step is None or step == state.step)
                if text and merges:
                    self._check_open_step_text(text)
            t = self._clock()
            if captured is not None:  # spooled and recorded first: durable once log() returns
                seq = state.seq + 1
                where = state.step if step is None else step  # the step the scalars get
                entries = self._spool.write(seq, captured, lists)
                self._spooled += sum(i["size"] for items in entries.values() for i in items)
                if self._spooled >= media.WAKE_BYTES:  # encode while the run goes on
                    self._wake.set()
                record = ("media", seq, t, where, entries)
                try:
                    self._wal.append(record)
                except BaseException:
                    media.drop_spool_of(self._wal.directory, seq)
                    raise
                state.apply(record)
            seq = state.seq + 1
            floats = normalizer.floats
            if floats and commit is None:  # the common call: packed, half the cost of a pickle
                self._wal.append_row(seq, t, step, values)
            else:
                self._wal.append(("log", seq, t, step, commit, values))
            state.seq = seq
            state.log(t, step, commit, values, normalizer.has_histogram, floats)
            # text of the step left open (resume.yaml holds it whole): bounded as one call's
            if texty and not aside:
                opened = (self._open_text if merges else 0) + text
                self._open_text = opened if state.pending else 0
            if state.buffer.rows >= self._checkpoint_rows and not self._rows_asked:
                # once per snapshot: Event.set() takes a lock and notifies, and the calls
                # until the checkpoint thread takes the rows would each pay it
                self._rows_asked = True
                self._wake.set()

    def _check_open_step_text(self, text: int) -> None:
        if self._open_text + text > MAX_STRING_LENGTH:
            raise InvalidValueError(
                f"the open step would hold {self._open_text + text:,} characters of text in "
                f"its string values; the limit per step is {MAX_STRING_LENGTH:,} (commit the "
                "step, or log large texts as artifacts)"
            )

    def _check_lineage(self, role: str) -> None:
        """run.yaml lists the versions a run logged and used: at most ``MAX_LINEAGE`` each
        (names of up to 128 characters: under 3 MB; docs/format.md, "Bounds")."""
        if len(self._state.artifacts.get(role, ())) >= MAX_LINEAGE:
            raise InvalidValueError(
                f"run {self._id} has {role} {MAX_LINEAGE:,} artifact versions, the most run.yaml "
                "lists: start another run"
            )

    def _check_step(self, value: Any) -> int:
        if isinstance(value, bool):
            raise InvalidValueError(f"step must be a non-negative int, got {value!r}")
        try:
            step: int = operator.index(value)
        except TypeError:
            raise InvalidValueError(
                f"step must be a non-negative int, got {type(value).__name__} {value!r}"
            ) from None
        if step < 0 or step >= 2**63:
            raise InvalidValueError(f"step must be a non-negative 64-bit int, got {step}")
        current = self._state.step
        if step < current:
            if self._settings.out_of_order == "raise":
                raise StepOrderError(
                    f"step {step} is lower than the current step {current} of run {self._id}"
                )
            self._warn_once(
                "order",
                f"gittrack: step {step} is lower than the current step {current}; it is kept "
                "as its own row in arrival order (this warning is shown once per run)",
            )
        return step

    def define_metric(
        self, name: str, step_metric: str | None = None, step_sync: bool | None = None,
        hidden: bool | None = None, summary: str | Iterable[str] | None = None,
        goal: str | None = None, overwrite: bool | None = None,
    ) -> MetricSpec:
        """How ``name`` is summarised: ``summary="min"``, ``"max"``, ``"mean"``, ``"first"``,
        ``"last"`` (default) or ``"none"``, or several (``"min,max"``); ``name`` may end in
        ``*`` to match many keys. ``step_metric`` names the key to plot it against.

        The parameters are W&B's, in its order. ``step_sync`` and ``overwrite`` are accepted
        for scripts written for it and change nothing: every row is stored whole, and a
        definition replaces an earlier one of the same name."""
        if not isinstance(name, str) or not name:
            raise InvalidKeyError(f"define_metric needs a metric name, got {name!r}")
        if step_metric is not None and not isinstance(step_metric, str):
            raise InvalidKeyError(f"step_metric must be a key name, got {step_metric!r}")
        for what, key in (("metric name", name), ("step_metric", step_metric)):
            problem = None if key is None else key_problem(key)
            if problem is not None:
                raise InvalidKeyError(f"define_metric: {what} {key!r} {problem}")
        spec = MetricSpec.build(plain_str(name), step_metric and plain_str(step_metric), summary,
                                goal, bool(hidden))
        specs = self._state.summary.specs
        if spec.name not in specs and len(specs) >= MAX_METRICS:
            raise InvalidValueError(f"a run may define at most {MAX_METRICS:,} metrics "
                                    "(run.yaml; docs/format.md, \"Bounds\"): use a pattern (\"*\")")
        if spec.summary not in (("last",), ("none",)):  # its keys' summaries grow: charge them
            with self._lock:
                self._normalizer.recharge(
                    lambda key: _aggregated(self._state, key) or fnmatch.fnmatchcase(key, spec.name)
                )
        self._record(("define", 0, name, spec.to_dict()))
        return spec

    def _record(self, record: tuple[Any, ...]) -> None:
        """Write a non-log record to the WAL and apply it (the seq is filled in here)."""
        if self._forked or self._finished:
            self._refuse(record[0])
            return
        with self._lock:
            if self._finished:  # finish() ran in another thread while we waited for the lock
                self._refuse(record[0])
            seq = self._state.seq + 1
            full = (record[0], seq, *record[2:])
            self._wal.append(full)
            self._state.apply(full)

    def _refuse(self, what: str) -> None:
        if self._forked:
            self._warn_once(
                "fork", f"gittrack: {what} from a forked child process is ignored: run "
                f"{self._id} belongs to process {self._pid}",
            )
            return
        raise RunFinishedError(f"run {self._id} has finished; start a new run with init()")

    def _warn_once(self, topic: str, message: str) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            warnings.warn(message, GittrackWarning, stacklevel=4)

    # -- watch ---------------------------------------------------------------------------
    def watch(self, models: Any = None, criterion: Any = None, log: str | None = "gradients",
              log_freq: int = 1000, idx: int | None = None, log_graph: bool = False, *,
              model: Any = None) -> None:
        """Log histograms of a torch model's gradients (``log="gradients"``), parameters
        (``"parameters"``) or both (``"all"``) every ``log_freq`` batches, as ``wandb.watch``
        (``gittrack.runs.watch``; ``criterion`` and ``log_graph`` are accepted and unused)."""
        from gittrack.runs import watch

        self._check_writable("watch")
        watch.watch(self, watch.either(models, model), log=log, log_freq=log_freq, idx=idx)

    def unwatch(self, models: Any = None, *, model: Any = None) -> None:
        """Remove the hooks ``watch`` put on ``models`` (on every model if ``None``)."""
        from gittrack.runs import watch

        watch.unwatch(self, watch.either(models, model))

    # -- artifacts -----------------------------------------------------------------------
    def log_artifact(
        self, artifact: Artifact, aliases: Iterable[str] | str | None = None
    ) -> ArtifactVersion:
        """Store ``artifact``'s files and return its version (``name:vN``).

        A new version only when the content changed; identical content returns the existing
        head. ``latest`` always names the newest version; ``aliases`` (``["best"]``) move to
        this one. The version names this run as its producer, and ``run.yaml`` lists it.
        """
        from gittrack.artifacts.publish import log_artifact

        self._check_writable("log_artifact")
        self._check_lineage("logged")
        version = log_artifact(self._own_repo(), artifact, producer=self._id, aliases=aliases)
        self._record_artifact("logged", version)
        return version

    def _record_artifact(self, role: str, version: ArtifactVersion) -> None:
        """``run.yaml`` lists ``version`` under ``role``, its commit and content beside its
        label (``runs.lineage``): a pull that renumbers it leaves the record exact."""
        from gittrack.runs.lineage import COMMITS, commit_entry

        self._record(("artifact", 0, {role: version.spec,
                                      COMMITS[role]: commit_entry(version, self._own_repo())}))

    def use_artifact(self, artifact: str | ArtifactVersion) -> ArtifactVersion:
        """The version ``artifact`` names (``"name"``, ``"name:v3"``, ``"name:best"``), recorded
        as an input of this run; ``.download()`` or ``.path(file)`` fetch its files."""
        from gittrack.artifacts.view import ArtifactVersion

        self._check_writable("use_artifact")
        if isinstance(artifact, str):
            version = ArtifactVersion.resolve(self._own_repo(), artifact)
        elif isinstance(artifact, ArtifactVersion):
            version = artifact
        else:
            raise UsageError(
                f"use_artifact takes 'name[:version]' or an ArtifactVersion, got {artifact!r}"
            )
        if version.spec not in self._state.artifacts.get("used", ()):
            self._check_lineage("used")
        self._record_artifact("used", version)
        return version

    def log_code(
        self, root: str | os.PathLike[str] = ".", name: str | None = None,
        include_fn: Any = None, exclude_fn: Any = None,
    ) -> ArtifactVersion | None:
        """W&B's ``run.log_code``: the source files under ``root`` (``.py``,
        ``requirements.txt``, ``Dockerfile*`` unless ``include_fn(path, root)`` says
        otherwise) that git does not ignore, logged as an artifact of type ``code`` (default
        name ``source-<project>-<entry point>``); ``None`` when no file matches. See
        docs/code.md."""
        from gittrack.runs import code

        self._check_writable("log_code")
        if name is None:
            name = code.artifact_name(self.info.project, (self.info.code or {}).get(
                "entrypoint") or self.info.program)
        art = code.code_artifact(self._own_repo(), root, name, include_fn, exclude_fn)
        if art is None:
            self._warn_once("log_code", f"gittrack: log_code found no file to log under {root}")
            return None
        return self.log_artifact(art)

    def save(self, glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None
             = None, policy: str = "live") -> list[str]:
        """Store the files ``glob_str`` matches with the run (``files/manifest.parquet``; the
        bytes in the project's store), as ``wandb.save``: ``policy`` ``"live"`` (now and again
        at finish), ``"now"`` or ``"end"``. Returns the saved names. See ``runs.files``."""
        from gittrack.runs import files

        self._check_writable("save")
        return files.saved_files(self).save(glob_str, base_path, policy)

    def _add_extra(self, maker: Callable[[], Any]) -> None:
        """Write what ``maker`` makes (``state.Extra``) in the next checkpoint, made soon."""
        with self._lock:
            self._state.extras.append(maker)
            self._extra_waiting = True  # a checkpoint even if nothing was logged since
        self._wake.set()

    def _own_repo(self) -> Repository:
        # The checkpoint thread uses self._repo; libgit2 objects are not safe to share between
        # threads at once, and artifact work runs in the caller's thread.
        return reopen(self._repo)

    def _check_writable(self, what: str) -> None:
        if self._forked:
            raise RunLockedError(
                f"{what} from a forked child: run {self._id} belongs to process {self._pid}"
            )
        if self._finished:
            self._refuse(what)

    # -- checkpoints ---------------------------------------------------------------------
    def _checkpoint_loop(self) -> None:
        while True:
            self._wake.wait(self._settings.checkpoint_interval)
            self._wake.clear()
            if self._stopping or self._forked:
                return
            try:
                self._checkpoint()
            except Exception as exc:  # kept and retried; finish() raises it if it persists
                self._checkpoint_error = exc
                log.warning("gittrack: checkpoint of run %s failed (will retry): %s",
                            self._id, exc)

    def _checkpoint(self, *, final: bool = False, exit_code: int | None = None) -> None:
        with self._checkpoint_lock:
            with self._lock:
                capture = self._console
                if not final and self._state.seq == self._checkpointed_seq and not (
                        capture is not None and capture.pending()) and not self._extra_waiting:
                    return
                snap = self._state.snapshot(final=final)
                self._rows_asked = False
                self._extra_waiting = False
                self._spooled = 0
                if capture is not None:  # the lines printed since the last checkpoint
                    snap.extras.append(capture.cut(self._storage, final=final))
                self._backlog.append(snap)  # first: the rows taken are never lost
                self._wal.rotate(snap.seq + 1)
            now = self._clock()
            if final and exit_code is not None:
                doc = run_document(self._info, snap, state=RunState.ended(exit_code), now=now,
                                   ended=now, exit_code=exit_code)
            else:
                doc = run_document(self._info, snap, state=RunState.RUNNING, now=now)
            self._checkpointer.write(self._backlog, doc)
            self._written = doc
            self._backlog.clear()
            self._checkpointed_seq = snap.seq
            self._checkpoint_error = None
            self._wal.drop_before(snap.seq)
            self._spool.drop_through(snap.seq)
            if capture is not None:
                capture.committed()

    def finish(self, exit_code: int = 0, quiet: bool | None = None) -> None:
        """Commit everything and mark the run ``finished`` (``failed`` if ``exit_code != 0``).

        Returns only once the final checkpoint is committed and fsynced. Calling it again
        does nothing.
        """
        if self._finished or self._forked:
            return
        exit_code = int(operator.index(exit_code))
        while self._before_finish:  # saved files of policy "live"/"end" (runs.files)
            self._before_finish.pop(0)()
        if self._sampler is not None:
            self._sampler.stop()  # a last sample first (at once: not after the interval)
        self._stopping = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        if self._console is not None:  # the streams are the process's own again
            console.stop(self._console)
        with self._lock:
            if self._finished:
                return
            self._checkpoint(final=True, exit_code=exit_code)
            self._finished = True
            self._exit_code = exit_code
            self._wal.close(remove=True)
        _live_runs.discard(self)
        if not (quiet if quiet is not None else self._settings.quiet or _quiet_env()):
            print(f"gittrack: run {self.name} ({self._id}) {self.state}; "
                  f"`gittrack show {self._id[:10]}`", file=sys.stderr)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)


def _quiet_env() -> bool:
    return os.environ.get("GITTRACK_QUIET", "") not in ("", "0")


def check_tags(value: Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    tags: list[str] = []
    for tag in value:
        if len(tags) >= MAX_TAGS:
            raise InvalidValueError(f"a run may have at most {MAX_TAGS:,} tags")
        if not isinstance(tag, str) or not tag:
            raise InvalidValueError(f"tags must be non-empty strings, got {tag!r}")
        tags.append(str(check_label("tag", tag)))
    return check_field("tags", list(dict.fromkeys(tags)))


MAX_LINEAGE = 10_000
"""Artifact versions one run may log, and as many it may use (run.yaml lists them)."""
MAX_METRICS = 2048
"""``define_metric`` definitions one run may have: each takes up to about 2.2 KB of run.yaml
(two keys of 512 characters, escaped)."""


def _aggregated(state: LiveState, key: str) -> bool:
    """Whether ``define_metric`` makes ``key``'s summary more than its last value."""
    spec = state.summary.spec_for(key)
    return spec is not None and spec.summary not in (("last",), ("none",))


def check_notes(value: object) -> str | None:
    """Notes: any text UTF-8 stores (several lines too); other types as their ``str``."""
    if value is None:
        return None
    return check_field("notes", check_text(value if isinstance(value, str) else str(value),
                                           what="notes"))


class _RecordedMapping(MutableMapping[str, Any]):
    """A dict-like view whose writes go through the run's write-ahead log."""

    _kind = ""

    def __init__(self, run: Run) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_sizes", None)

    def _data(self) -> dict[str, Any]:
        raise NotImplementedError

    def _entry_sizes(self) -> dict[str, int]:
        """YAML bytes of each entry this mapping bounds (made on first use, then kept)."""
        if self._sizes is None:
            object.__setattr__(self, "_sizes", {k: entry_bytes(k, v)
                                                for k, v in self._data().items()})
        sizes: dict[str, int] = self._sizes
        return sizes

    def _check_size(self, plain: dict[str, Any]) -> None:
        sizes = self._entry_sizes()
        new = {k: entry_bytes(k, v) for k, v in plain.items()}
        check_document({**sizes, **new}, what=f"{self._kind}.yaml")
        sizes.update(new)

    def _plain(self, items: dict[str, Any]) -> dict[str, Any]:
        """``items`` as plain YAML data, checked like every nested key and value."""
        plain = to_plain(items, where=self._kind)
        assert isinstance(plain, dict)
        return plain

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        if key not in self._data():
            raise KeyError(key)
        self._run._record((f"{self._kind}_del", 0, [key]))
        self._entry_sizes().pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data()))

    def __len__(self) -> int:
        return len(self._data())

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data()[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        items = dict(other, **kwargs)
        for key in items:
            if not isinstance(key, str) or not key:
                raise InvalidKeyError(
                    f"{self._kind} keys must be non-empty strings, got {key!r}"
                )
        plain = self._plain(items)
        if plain:
            self._check_size(plain)
            self._run._record((self._kind, 0, plain))

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data()!r})"


class Config(_RecordedMapping):
    """``run.config``: hyperparameters; every change is recorded (``config.yaml``)."""

    _kind = "config"

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = self._run._state.config
        return data

    def update(self, other: Any = None, /, allow_val_change: bool = True,
               **kwargs: Any) -> None:
        super().update(config_items(other), **kwargs)


class Summary(_RecordedMapping):
    """``run.summary``: the last value of each key by default; set a key to override it."""

    _kind = "summary"

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = self._run._state.summary.values
        return data

    def _plain(self, items: dict[str, Any]) -> dict[str, Any]:
        return super()._plain(
            {k: v.to_dict() if isinstance(v, Histogram) else v for k, v in items.items()}
        )

    def _entry_sizes(self) -> dict[str, int]:
        # Only the entries set here are bounded: the rest are values from log(), each bounded
        # there, and measuring them would cost every log() call.
        if self._sizes is None:
            object.__setattr__(self, "_sizes", {})
        return super()._entry_sizes()


def config_items(config: Any) -> dict[str, Any]:
    """``init(config=...)``: a dict, an ``argparse.Namespace``, a dataclass, or ``None``;
    ``InvalidKeyError`` for an empty top-level key, as ``run.config.update`` refuses it."""
    items = _config_items(config)
    if "" in items:
        raise InvalidKeyError("config keys must be non-empty strings, got ''")
    return items


def _config_items(config: Any) -> dict[str, Any]:
    import dataclasses

    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        try:
            return dataclasses.asdict(config)
        except RecursionError:  # a dataclass that contains itself
            raise InvalidValueError(
                f"config {type(config).__name__} nests too deeply (it contains itself?)"
            ) from None
    if hasattr(config, "__dict__") and not isinstance(config, type):
        return {k: v for k, v in vars(config).items() if not k.startswith("_")}
    raise InvalidValueError(
        f"config must be a dict, an argparse.Namespace or a dataclass, got {type(config).__name__}"
    )

