"""``wandb.init`` and the module-level calls, mapped onto ``gittrack.init`` and the live run.

Every keyword of ``wandb.init`` is accepted (docs/migrating-from-wandb.md has the table):
mapped where gittrack has the meaning, recorded in ``run.yaml`` (``wandb:``) where it is a
fact about the run, and otherwise ignored with one ``GittrackWarning`` naming what was.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from gittrack.api import session
from gittrack.api.disabled import DisabledRun, disabled_by
from gittrack.errors import GittrackError, GittrackWarning, InvalidSettingError, UsageError
from gittrack.runs.live import Run as GittrackRun
from gittrack.wandb._run import Run

MODE_ENV = ("WANDB_MODE", "GITTRACK_MODE")
"""Environment variables naming the mode (either saying ``disabled`` disables);
``WANDB_DISABLED=true`` also disables."""
_ENV_DEFAULTS = {"project": "WANDB_PROJECT", "entity": "WANDB_ENTITY", "name": "WANDB_NAME",
                 "notes": "WANDB_NOTES", "group": "WANDB_RUN_GROUP",
                 "job_type": "WANDB_JOB_TYPE", "id": "WANDB_RUN_ID", "dir": "WANDB_DIR"}
# Keywords kept in run.yaml's ``wandb:`` when given (facts about how the run was started).
_RECORDED = ("entity", "mode", "dir", "anonymous", "monitor_gym", "resume_from", "fork_from",
             "sync_tensorboard", "tensorboard", "force")
# Keywords with no effect here (named in the one warning when given).
_IGNORED = ("anonymous", "monitor_gym", "resume_from", "fork_from", "force")
_NOT_SET = object()

_lock = threading.Lock()
_views: weakref.WeakKeyDictionary[GittrackRun, Run] = weakref.WeakKeyDictionary()
_disabled: DisabledRun | None = None


def init(
    entity: str | None = None, project: str | None = None,
    dir: str | os.PathLike[str] | None = None, id: str | None = None,
    name: str | None = None, notes: str | None = None, tags: Sequence[str] | None = None,
    config: Any = None, config_exclude_keys: Sequence[str] | None = None,
    config_include_keys: Sequence[str] | None = None, allow_val_change: bool | None = None,
    group: str | None = None, job_type: str | None = None, mode: str | None = None,
    force: bool | None = None, reinit: bool | str | None = None,
    resume: bool | str | None = None, resume_from: str | None = None,
    fork_from: str | None = None, save_code: bool | None = None,
    tensorboard: bool | None = None, sync_tensorboard: bool | None = None,
    monitor_gym: bool | None = None, settings: Any = None, anonymous: Any = _NOT_SET,
    **unknown: Any,
) -> Any:
    """``wandb.init``, recording with gittrack in the git repository of the current folder
    (or ``GITTRACK_REPO``). Returns a ``gittrack.wandb.Run`` (or, disabled, a ``DisabledRun``).

    ``dir`` is where ``run.dir`` goes (files saved with the run), not where the repository
    is looked for. Keywords of a newer W&B are accepted too, with the warning."""
    from gittrack.wandb._settings import as_mapping, gittrack_fields

    global _disabled
    given = as_mapping(settings)
    mode = mode if mode is not None else given.get("mode")
    mode = {"dryrun": "offline", "run": "online"}.get(mode, mode) if isinstance(mode, str) \
        else mode  # older W&B spellings
    env = {k: os.environ.get(v) or None for k, v in _ENV_DEFAULTS.items()}
    project, entity, name = project or env["project"], entity or env["entity"], name or env["name"]
    notes, group = notes or env["notes"], group or env["group"]
    job_type, id, dir = job_type or env["job_type"], id or env["id"], dir or env["dir"]
    if tags is None and os.environ.get("WANDB_TAGS"):
        tags = [t for t in os.environ["WANDB_TAGS"].split(",") if t]
    items = _config(config, config_exclude_keys, config_include_keys)
    from gittrack.wandb import _sweep

    sweep_id = _sweep.sweep_of_trial
    if _sweep.trial is not None:  # inside wandb.agent: the trial's parameters win
        items = {**items, **_config(_sweep.trial, None, None)}
        group = group or f"sweep-{sweep_id}"
    if _is_disabled(mode):
        previous = _disabled
        _disabled = DisabledRun(name=name, project=project, config=items, id=id, tags=tags,
                                notes=notes, group=group, job_type=job_type)
        if previous is not None and reinit in (None, False, "default", "return_previous"):
            _disabled = previous
        session._disabled = _disabled
        return _disabled
    _disabled = None
    if resume is None and os.environ.get("WANDB_RESUME"):
        resume = os.environ["WANDB_RESUME"]
    fields = gittrack_fields(given)
    if reinit is not None and reinit != "default":
        fields["reinit"] = ("finish_previous" if reinit else "return_previous") \
            if isinstance(reinit, bool) else reinit
    elif "reinit" not in fields:
        fields["reinit"] = "return_previous"  # W&B's default in a script
    if fields["reinit"] == "return_previous":
        current = current_run()
        if isinstance(current, Run):
            return current
    passed = {"anonymous": anonymous, "monitor_gym": monitor_gym, "resume_from": resume_from,
              "fork_from": fork_from, "force": force}
    ignored = [k for k in _IGNORED if passed[k] is not _NOT_SET and passed[k] not in (None, False)]
    ignored += sorted(unknown)
    if ignored:
        warnings.warn(f"gittrack.wandb.init: {', '.join(ignored)} accepted and ignored "
                      "(docs/migrating-from-wandb.md)", GittrackWarning, stacklevel=2)
    native = session.init(
        project=project, name=name, config=items, tags=tags, notes=notes, group=group,
        job_type=job_type, resume=_resume(resume, id), id=id, settings=fields,
        save_code=save_code, mode=mode if mode is None or mode in ("online", "offline", "shared",
                                                                    "disabled") else None)
    wrapped = _view(native, entity=entity, dir=dir, allow_val_change=bool(allow_val_change),
                    resumed=bool(native.info.resumed))
    recorded = {k: _plain(v) for k, v in {
        "entity": entity, "mode": mode, "dir": None if dir is None else os.fspath(dir),
        "anonymous": None if anonymous is _NOT_SET else anonymous, "monitor_gym": monitor_gym,
        "resume_from": resume_from, "fork_from": fork_from, "sync_tensorboard": sync_tensorboard,
        "tensorboard": tensorboard, "force": force, "sweep_id": sweep_id}.items()
        if v is not None}
    wrapped.sweep_id = sweep_id
    if recorded:
        native._set_meta("wandb", recorded)
    if sync_tensorboard or tensorboard:
        _patch_tensorboard(native)
    return wrapped


def _is_disabled(mode: str | None) -> bool:
    if mode is None and os.environ.get("WANDB_DISABLED", "").strip().lower() in (
            "true", "1", "yes"):
        return True
    return disabled_by(mode, MODE_ENV)


def _resume(resume: Any, run_id: str | None) -> Any:
    if resume in ("allow", "auto") and run_id is None:
        return None if resume == "allow" else "auto"
    return resume


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _config(config: Any, exclude: Sequence[str] | None,
            include: Sequence[str] | None) -> dict[str, Any]:
    """``config=``: a dict, an ``argparse.Namespace``, absl flags, a dataclass, or a YAML
    file's path (W&B's ``config="config.yaml"``), values as W&B keeps them; then
    ``config_exclude_keys`` / ``config_include_keys`` (not both)."""
    from gittrack.formats.values import wandb_plain
    from gittrack.runs.live import config_items

    if exclude and include:
        raise UsageError("init: give config_exclude_keys or config_include_keys, not both")
    if isinstance(config, (str, os.PathLike)):
        config = _yaml_config(os.fspath(config))
    elif config is not None and not isinstance(config, Mapping) and hasattr(
            config, "flag_values_dict"):  # absl flags
        config = config.flag_values_dict()
    items = config_items(config)
    if exclude:
        items = {k: v for k, v in items.items() if k not in set(exclude)}
    if include:
        items = {k: v for k, v in items.items() if k in set(include)}
    return {k: wandb_plain(v) for k, v in items.items()}


def _yaml_config(path: str) -> dict[str, Any]:
    """A W&B config file: ``key: value`` or ``key: {value: ..., desc: ...}``."""
    from gittrack.formats import yamlio

    try:
        with open(path, "rb") as f:
            data = yamlio.load(f.read())
    except OSError as exc:
        raise InvalidSettingError(f"config file {path}: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise InvalidSettingError(f"config file {path} does not hold a mapping")
    return {k: v["value"] if isinstance(v, dict) and "value" in v else v
            for k, v in data.items() if k != "wandb_version" and not str(k).startswith("_")}


def _patch_tensorboard(native: GittrackRun) -> None:
    """As ``gittrack.init(sync_tensorboard=True)``: the patch this run made ends with it."""
    try:
        from gittrack import tensorboard  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        warnings.warn("gittrack.wandb.init: sync_tensorboard=True, but this gittrack has no "
                      "gittrack.tensorboard: TensorBoard events are not recorded",
                      GittrackWarning, stacklevel=3)
        return
    theirs = tensorboard.patched()  # the user's own patch(), or an earlier run's: theirs to undo
    try:
        tensorboard.patch()
    except GittrackError as exc:  # no SummaryWriter package installed
        warnings.warn(f"gittrack.wandb.init: {exc}; TensorBoard events are not recorded",
                      GittrackWarning, stacklevel=3)
        return
    if not theirs:
        native._before_finish.append(tensorboard.unpatch)


def _view(native: GittrackRun, **kwargs: Any) -> Run:
    with _lock:
        found = _views.get(native)
        if found is None:
            found = _views[native] = Run(native, **kwargs)
        return found


def forget(run: Run) -> None:
    with _lock:
        _views.pop(run.gittrack_run, None)


def current_run() -> Run | DisabledRun | None:
    """``wandb.run``: the W&B view of the current gittrack run (also one a script started
    with ``gittrack.init``), the disabled run, or ``None``."""
    if _disabled is not None:
        return _disabled
    native = session.current_run()
    if native is None:
        return None
    if isinstance(native, DisabledRun):
        return native
    return _view(native)


def active(what: str) -> Run | DisabledRun:
    run = current_run()
    if run is None:
        from gittrack.errors import NoActiveRunError

        raise NoActiveRunError(f"wandb.{what}() called before wandb.init()")
    return run


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run (W&B finishes only it; the other active runs go on)."""
    global _disabled
    if _disabled is not None:
        _disabled.finish()
        _disabled = None
        session._disabled = None
        return
    run = current_run()
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None,
        sync: bool | None = None) -> None:
    native = session._latest  # the hot path, as gittrack.log's: no lock
    if _disabled is None and native is not None and not native._finished \
            and not native._forked:
        view = _views.get(native)
        if view is not None:
            view.log(data, step=step, commit=commit)
            return
    run = current_run()
    if run is None:
        raise_no_run("log")
    assert run is not None
    run.log(data, step=step, commit=commit)


def raise_no_run(what: str) -> None:
    from gittrack.errors import NoActiveRunError

    raise NoActiveRunError(f"wandb.{what}() called before wandb.init()")
