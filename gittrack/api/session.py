"""The process-wide session: ``gittrack.init``, ``gittrack.log``, ``gittrack.finish``."""

from __future__ import annotations

import atexit
import dataclasses
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from gittrack.api.disabled import DisabledRun, disabled_by
from gittrack.errors import (
    GittrackError,
    GittrackWarning,
    InvalidSettingError,
    NoActiveRunError,
    NotFoundError,
)
from gittrack.git.repo import discover
from gittrack.runs import console, store
from gittrack.runs.ids import check_run_id
from gittrack.runs.info import RunState
from gittrack.runs.live import Run
from gittrack.runs.recover import recover_dead_runs
from gittrack.runs.resolve import resolve_run
from gittrack.runs.start import create_run, resume_run
from gittrack.runs.summary import MetricSpec
from gittrack.settings import Settings
from gittrack.types import RunId

if TYPE_CHECKING:
    from gittrack.artifacts.artifact import Artifact
    from gittrack.artifacts.view import ArtifactVersion

_lock = threading.RLock()
_active: list[Run] = []
# _active[-1] as of the last change of _active (made under _lock): gittrack.log() reads it
# without the lock, and asks current_run() only when it is missing or no longer running.
_latest: Run | None = None
_hooks_installed = False
_uncaught: list[BaseException] = []
# the run of init(mode="disabled") until finish(): what gittrack.run and gittrack.log() use
_disabled: DisabledRun | None = None

_RESUME_MODES = ("allow", "must", "never", "auto")


def current_run() -> Run | None:
    """The most recently started run of this process that has not finished."""
    with _lock:
        _prune()
        if _active:
            return _active[-1]
        # disabled mode (api.disabled): a stand-in whose every method is a no-op
        return cast("Run | None", _disabled)


def active_run(what: str) -> Run:
    """The current run, for the module-level ``what`` (``"gittrack.log()"``): without one,
    ``NoActiveRunError`` saying ``what`` was called before ``gittrack.init()``."""
    run = current_run()
    if run is None:
        raise NoActiveRunError(f"{what} called before gittrack.init()")
    return run


def _prune() -> None:
    _active[:] = [r for r in _active if r.state == RunState.RUNNING and r._pid == os.getpid()]
    _rebind()


def _rebind() -> None:
    """Point ``_latest`` at the current run (under ``_lock``, after every change of ``_active``)."""
    global _latest
    _latest = _active[-1] if _active else None


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    tags: Iterable[str] | None = None,
    notes: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    repo: str | os.PathLike[str] | None = None,
    resume: bool | str | None = None,
    id: str | None = None,
    settings: Settings | Mapping[str, Any] | None = None,
    save_code: bool | None = None,
    sync_tensorboard: bool | None = None,
    mode: str | None = None,
) -> Run:
    """Start recording a run in the git repository of ``repo`` (default: the current folder).

    >>> run = gittrack.init(project="mnist", config={"lr": 1e-3})   # doctest: +SKIP
    >>> run.log({"loss": 0.5})                                       # doctest: +SKIP
    >>> run.finish()                                                 # doctest: +SKIP

    ``resume``: ``None``/``False`` starts a new run (an existing ``id`` is an error);
    ``"allow"`` continues run ``id`` if it exists; ``"must"`` or ``True`` requires it;
    ``"never"`` refuses it; ``"auto"`` (or ``True`` without ``id``) continues the latest
    crashed run; any other string names the run to continue (id, id prefix or name).

    ``save_code=True`` also stores the uncommitted changes, the entry point and the installed
    packages, encrypted for a private project (docs/code.md); it replaces
    ``Settings(save_code=...)``.

    ``sync_tensorboard=True`` logs what TensorBoard ``SummaryWriter`` objects write to this run too
    (``gittrack.tensorboard.patch()``; docs/integrations/tensorboard.md); without
    ``tensorboard`` or ``tensorboardX`` installed it warns that nothing will be synced.

    ``mode``: W&B's. ``"disabled"`` (or, without ``mode``, the environment variable
    ``GITTRACK_MODE=disabled``) records nothing and needs no repository: the run returned is
    a ``DisabledRun`` (gittrack/api/disabled.py) whose methods do nothing and whose config and
    summary are plain dicts. ``"offline"``, ``"online"`` and ``"shared"`` record as usual:
    gittrack never sends anything (``gittrack push`` shares runs).
    """
    global _disabled
    if disabled_by(mode):
        _disabled = DisabledRun(name=name, project=project, config=config, id=id, tags=tags,
                                notes=notes, group=group, job_type=job_type)
        return cast(Run, _disabled)  # duck-typed: every Run method exists, as a no-op
    _disabled = None
    if mode in ("online", "shared"):
        _warn_online(mode)
    chosen = Settings.from_any(settings)
    if save_code is not None:
        chosen = dataclasses.replace(chosen, save_code=save_code)
    with _lock:
        _install_hooks()
        _prune()
        if _active:
            previous = _active[-1]
            if chosen.reinit == "return_previous":
                return previous
            if chosen.reinit == "finish_previous":
                for run in list(_active):
                    run.finish()
        git = discover(repo if repo is not None else os.environ.get("GITTRACK_REPO"))
        _recover_quietly(git)
        target = _resume_target(git, resume, id)
        if target is not None:
            run = resume_run(git, target, config=config, tags=tags, notes=notes,
                             settings=chosen)
        else:
            run = create_run(
                git, run_id=id, name=name, project=project, config=config, tags=tags,
                notes=notes, group=group, job_type=job_type, settings=chosen,
            )
        _active.append(run)
        _rebind()
    if sync_tensorboard:
        _sync_tensorboard(run)
    if not chosen.quiet and not os.environ.get("GITTRACK_QUIET"):
        console.write_aside(sys.stderr, f"gittrack: run {run.name} ({run.id}) recording to "
                                        f"{run.ref}\n")
    return run


def _sync_tensorboard(run: Run) -> None:
    """Patch TensorBoard's writers for ``run``; the patch this run made ends with it (as
    W&B's does), so later writers in the process do not warn about a missing run."""
    from gittrack.api import tensorboard

    theirs = tensorboard.patched()  # the user's own patch(), or an earlier run's: theirs to undo
    try:
        tensorboard.patch()
    except GittrackError as exc:
        warnings.warn(f"gittrack: {exc}; TensorBoard events will not be recorded",
                      GittrackWarning, stacklevel=3)
        return
    if not theirs:
        run._before_finish.append(tensorboard.unpatch)


_online_warned = False


def _warn_online(mode: str) -> None:
    global _online_warned
    if not _online_warned:
        _online_warned = True
        warnings.warn(f"gittrack: mode={mode!r} records locally like 'offline': gittrack never "
                      "sends anything by itself; `gittrack push` shares runs", GittrackWarning,
                      stacklevel=3)


def _resume_target(git: Any, resume: bool | str | None, run_id: str | None) -> RunId | None:
    if resume is None or resume is False:
        return None
    if isinstance(resume, str) and resume not in _RESUME_MODES:
        return resolve_run(git, resume).id
    if resume is not True and not isinstance(resume, str):
        raise InvalidSettingError(f"resume must be a bool or a string, got {resume!r}")
    mode = "must" if resume is True and run_id is not None else (
        "auto" if resume is True else resume)
    if mode == "auto" and run_id is None:
        return _latest_crashed(git)
    if run_id is None:
        if mode in ("allow", "never"):
            return None  # no run named to continue: a new run
        raise InvalidSettingError(f"resume={resume!r} needs id= (the run to continue)")
    rid = check_run_id(run_id)
    exists = store.head(git, rid) is not None
    if mode == "never":
        return None  # create_run raises RunExistsError if it exists
    if mode == "must" and not exists:
        raise NotFoundError(f"no run with id {rid} to resume (resume='must')")
    return rid if exists else None


def _latest_crashed(git: Any) -> RunId | None:
    for run_id in sorted(store.list_runs(git), reverse=True):
        head = store.head(git, run_id)
        if head is not None:
            state = store.load_checkpoint(git, head, with_resume=False).info.state
            if state == RunState.CRASHED:
                return run_id
    return None


def _recover_quietly(git: Any) -> None:
    try:
        recover_dead_runs(git)
    except (GittrackError, OSError) as exc:
        warnings.warn(f"gittrack: could not recover a dead run: {exc}", GittrackWarning,
                      stacklevel=3)


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    """``current_run().log(...)``: log to the most recently started active run."""
    run = _latest  # no lock on the hot path: one read of a module global
    if run is None or run._finished or run._forked:  # none, or finished or forked since
        if _disabled is not None and _only_disabled():
            return
        run = active_run("gittrack.log()")
    run.log(data, step, commit)


def _only_disabled() -> bool:
    """Whether the current run is the disabled one (no recording run is active)."""
    with _lock:
        _prune()
        return not _active


def finish(exit_code: int = 0) -> None:
    """Finish every active run of this process."""
    global _disabled
    with _lock:
        _disabled = None
        runs = list(_active)
        _active.clear()
        _rebind()
    for run in runs:
        run.finish(exit_code=exit_code)


def define_metric(
    name: str, step_metric: str | None = None, step_sync: bool | None = None,
    hidden: bool | None = None, summary: str | Iterable[str] | None = None,
    goal: str | None = None, overwrite: bool | None = None,
) -> MetricSpec:
    """``current_run().define_metric(...)``: how the current run summarises ``name``."""
    return active_run("gittrack.define_metric()").define_metric(
        name, step_metric=step_metric, step_sync=step_sync, hidden=hidden, summary=summary,
        goal=goal, overwrite=overwrite)


def log_artifact(
    artifact: Artifact, aliases: Iterable[str] | str | None = None
) -> ArtifactVersion:
    """``current_run().log_artifact(...)``: store a ``gittrack.Artifact`` as a new version."""
    return active_run("gittrack.log_artifact()").log_artifact(artifact, aliases=aliases)


def use_artifact(artifact: str | ArtifactVersion) -> ArtifactVersion:
    """``current_run().use_artifact(...)``: a version (``"name:v3"``), recorded as an input."""
    return active_run("gittrack.use_artifact()").use_artifact(artifact)


def watch(models: Any = None, criterion: Any = None, log: str | None = "gradients",
          log_freq: int = 1000, idx: int | None = None, log_graph: bool = False, *,
          model: Any = None) -> None:
    """``current_run().watch(...)``: histograms of a torch model's gradients and parameters
    every ``log_freq`` batches, as ``wandb.watch``."""
    active_run("gittrack.watch()").watch(models, criterion=criterion, log=log,
                                         log_freq=log_freq, idx=idx, log_graph=log_graph,
                                         model=model)


def unwatch(models: Any = None, *, model: Any = None) -> None:
    """``current_run().unwatch(...)``: remove the hooks of ``watch``."""
    active_run("gittrack.unwatch()").unwatch(models, model=model)


def _install_hooks() -> None:
    """At exit, finish runs left open: ``failed`` after an uncaught exception."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    # Finishing at exit may write the first Parquet chunk: pyarrow then imports pandas, which
    # imports concurrent.futures.thread, and that import fails once the interpreter is
    # shutting down ("can't register atexit after shutdown"). Import it while we still can.
    import concurrent.futures.thread  # noqa: F401

    previous = sys.excepthook

    def excepthook(kind: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        _uncaught.append(exc)
        previous(kind, exc, tb)

    sys.excepthook = excepthook
    atexit.register(_at_exit)


def _at_exit() -> None:
    with _lock:
        runs = [r for r in _active if r._pid == os.getpid()]
        _active.clear()
        _rebind()
    for run in runs:
        try:
            run.finish(exit_code=1 if _uncaught else 0)
        except GittrackError as exc:  # the WAL stays; the next command recovers the run
            print(f"gittrack: could not finish run {run.id}: {exc}", file=sys.stderr)
