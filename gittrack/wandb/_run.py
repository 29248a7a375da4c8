"""``wandb.run`` and its ``config`` and ``summary``, over a ``gittrack.Run``.

The W&B run a script holds is a thin view of the gittrack run: what both have is the gittrack
run's own (``log``, ``define_metric``, ``watch``, ``name``, ``tags`` ...); what W&B adds is
mapped here (``dir``, ``project``, ``alert``, ``log_artifact(path)``, ``use_artifact(name,
type=)``, ``save``, ``restore``, ``summary._json_dict`` ...).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.errors import GittrackError, GittrackWarning, InvalidValueError, UsageError
from gittrack.formats.values import check_text, to_plain, wandb_plain

if TYPE_CHECKING:
    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.runs.live import Run as GittrackRun

MAX_ALERTS = 1000
"""Alerts ``run.yaml`` keeps (the latest); each title and text cut to ``MAX_ALERT_TEXT``."""
MAX_ALERT_TEXT = 4096
ALERT_LEVELS = ("INFO", "WARN", "ERROR")


class _View(MutableMapping[str, Any]):
    """Item and attribute access to one of the run's recorded mappings (``_target``)."""

    _run: GittrackRun

    def _target(self) -> MutableMapping[str, Any]:
        raise NotImplementedError

    def _items(self) -> dict[str, Any]:
        return dict(self._target())

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        del self._target()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __contains__(self, key: object) -> bool:
        return key in self._target()

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._target()[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def as_dict(self) -> dict[str, Any]:
        return self._items()

    def keys(self) -> Any:
        return self._items().keys()

    def items(self) -> Any:
        return self._items().items()

    def values(self) -> Any:
        return self._items().values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items().get(key, default)

    def __repr__(self) -> str:
        return repr(self._items())


class Config(_View):
    """``wandb.config``: attribute and item access; values kept as W&B keeps them
    (``formats.values.wandb_plain``: ``torch.device`` as ``"cpu"``, an enum as its name);
    changing a value needs ``allow_val_change=True``, as in W&B."""

    _allow: bool

    def __init__(self, run: GittrackRun, allow_val_change: bool = False) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_allow", allow_val_change)

    def _target(self) -> MutableMapping[str, Any]:
        return self._run.config

    def update(self, d: Any = None, allow_val_change: bool | None = None,  # type: ignore[override]
               **kwargs: Any) -> None:
        """Set keys from a dict, an ``argparse.Namespace``, absl flags or a dataclass.
        Changing the value of a key already set needs ``allow_val_change=True`` (or
        ``init(allow_val_change=True)``), as in W&B."""
        from gittrack.runs.live import config_items

        items = {**config_items(d), **kwargs}
        new = {k: wandb_plain(v) for k, v in items.items()}
        allow = self._allow if allow_val_change is None else allow_val_change
        if not allow:
            self._check_unchanged(new)
        self._run.config.update(new)

    def _check_unchanged(self, new: Mapping[str, Any]) -> None:
        old = self._run.config
        for key, value in new.items():
            if isinstance(key, str) and key in old:
                plain = to_plain(value, where=f"config.{key}")
                if plain != old[key]:
                    raise UsageError(
                        f"Attempted to change value of key {key!r} from {old[key]!r} to "
                        f"{plain!r}; pass allow_val_change=True to config.update() to change it")

    def setdefaults(self, d: Any) -> None:
        """Set the keys of ``d`` that are not set yet."""
        from gittrack.runs.live import config_items

        self._run.config.update({k: wandb_plain(v) for k, v in config_items(d).items()
                                 if k not in self._run.config})

    def persist(self) -> None:
        """W&B writes its config file here; gittrack records every change already."""


class Summary(_View):
    """``wandb.summary`` / ``run.summary``: attribute and item access, ``update``, and
    ``_json_dict``, the plain dict some scripts and frameworks read."""

    def __init__(self, run: GittrackRun) -> None:
        object.__setattr__(self, "_run", run)

    def _target(self) -> MutableMapping[str, Any]:
        return self._run.summary

    def update(self, d: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        items = {**dict(d or {}), **kwargs}
        self._run.summary.update({k: _summary_value(v) for k, v in items.items()})

    @property
    def _json_dict(self) -> dict[str, Any]:
        return self._items()


def _summary_value(value: Any) -> Any:
    from gittrack.formats.histogram import Histogram

    return value if isinstance(value, Histogram) else wandb_plain(value)


class Run:
    """``wandb.run``: a W&B-shaped view of a live ``gittrack.Run`` (``.gittrack_run``)."""

    disabled = False
    offline = True  # gittrack never sends anything: runs are shared with `gittrack push`

    def __init__(self, run: GittrackRun, *, entity: str | None = None,
                 dir: str | os.PathLike[str] | None = None,
                 allow_val_change: bool = False, resumed: bool = False) -> None:
        self.gittrack_run = run
        self.entity = entity or ""
        self.config = Config(run, allow_val_change)
        self.summary = Summary(run)
        self.resumed = resumed
        self.sweep_id: str | None = None
        self.start_time = time.time()
        base = Path(dir) if dir is not None else _default_dir(run)
        self._dir = base / f"run-{run.id}" / "files"
        run._before_finish.append(self._save_dir)  # also when the process exits unfinished

    # -- identity ----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return str(self.gittrack_run.id)

    @property
    def project(self) -> str:
        return self.gittrack_run.info.project or ""

    @property
    def group(self) -> str:
        return self.gittrack_run.info.group or ""

    @property
    def job_type(self) -> str:
        return self.gittrack_run.info.job_type or ""

    @property
    def display_name(self) -> str:
        return self.gittrack_run.name

    @property
    def path(self) -> str:
        """``entity/project/run_id``, what ``Api().run()`` and ``restore(run_path=)`` take."""
        return f"{self.entity or '-'}/{self.project or '-'}/{self.id}"

    @property
    def url(self) -> None:
        """No web page: the run is ``refs/gittrack/runs/<id>`` (``gittrack show <id>``)."""
        return None

    def get_url(self) -> None:
        return None

    def get_project_url(self) -> None:
        return None

    @property
    def dir(self) -> str:
        """A folder for files to save with the run (``wandb.save``); every file in it is
        saved at ``finish``. ``init(dir=...)`` puts it under that folder."""
        self._dir.mkdir(parents=True, exist_ok=True)
        return str(self._dir)

    @property
    def settings(self) -> Any:
        from gittrack.wandb._settings import Settings

        return Settings(run_id=self.id, project=self.project, files_dir=self.dir)

    def __getattr__(self, name: str) -> Any:  # the gittrack run's own: log, name, tags ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.gittrack_run, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("name", "notes", "tags"):
            setattr(self.gittrack_run, name, value)
        elif name == "display_name":
            self.gittrack_run.name = value
        else:
            object.__setattr__(self, name, value)

    # -- recording ---------------------------------------------------------------------------
    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None,
            sync: bool | None = None) -> None:
        """``wandb.log``: as ``gittrack.Run.log``; an array or tensor of several values
        becomes a ``Histogram`` (W&B's rule); ``sync`` is accepted and unused."""
        try:
            self.gittrack_run.log(data, step, commit)
        except InvalidValueError:
            converted = _histograms(data)
            if converted is None:
                raise
            self.gittrack_run.log(converted, step, commit)

    def save(self, glob_str: str | os.PathLike[str] | None = None,
             base_path: str | os.PathLike[str] | None = None, policy: str = "live",
             glob: bool = True) -> list[str]:
        """``wandb.save``: see ``gittrack.runs.files``. ``glob=False`` is accepted (the
        pattern is matched as a glob only if it has one)."""
        if glob_str is None:
            return []
        return self.gittrack_run.save(glob_str, base_path, policy)

    def restore(self, name: str, run_path: str | None = None, replace: bool = False,
                root: str | None = None) -> Any:
        from gittrack.wandb._files import restore

        return restore(name, run_path=run_path or self.path, replace=replace,
                       root=root or self.dir)

    def alert(self, title: str, text: str, level: Any = None,
              wait_duration: Any = None) -> None:
        """Recorded in ``run.yaml`` (``alerts``: the latest ``MAX_ALERTS``) and printed to
        stderr. ``wait_duration`` (W&B's rate limit between alerts of one title) is accepted
        and unused: every alert is recorded."""
        name = getattr(level, "value", level) or "INFO"
        if not isinstance(name, str) or name.upper() not in ALERT_LEVELS:
            raise UsageError(f"alert level must be one of {', '.join(ALERT_LEVELS)}, "
                             f"got {level!r}")
        title_text = check_text(str(title), what="alert title")[:MAX_ALERT_TEXT]
        body = check_text(str(text), what="alert text")[:MAX_ALERT_TEXT]
        from gittrack.runs.metadata import utc_iso

        alert = {"title": title_text, "text": body, "level": name.upper(),
                 "time": utc_iso(time.time()), "step": self.gittrack_run.step}
        alerts = list(self.gittrack_run.info.document.get("alerts") or [])
        alerts = [*alerts, alert][-MAX_ALERTS:]
        self.gittrack_run._set_meta("alerts", alerts)
        print(f"gittrack: alert [{alert['level']}] {title_text}: {body}", file=sys.stderr)

    def log_artifact(self, artifact_or_path: Any, name: str | None = None,
                     type: str | None = None, aliases: Iterable[str] | str | None = None,
                     tags: Iterable[str] | None = None) -> ArtifactVersion:
        """A ``wandb.Artifact``/``gittrack.Artifact``, or a path (file or folder) logged as
        artifact ``name`` (default: the file name) of ``type`` (default ``"unspecified"``).
        ``tags`` are recorded as aliases."""
        from gittrack.artifacts.artifact import Artifact

        artifact = artifact_or_path
        if not isinstance(artifact, Artifact):
            artifact = _path_artifact(artifact_or_path, name, type)
        extra = [] if tags is None else [tags] if isinstance(tags, str) else list(tags)
        given = [] if aliases is None else [aliases] if isinstance(aliases, str) else list(aliases)
        given += list(getattr(artifact, "aliases", None) or [])  # wandb.Artifact's own
        return self.gittrack_run.log_artifact(artifact, aliases=[*given, *extra] or None)

    def use_artifact(self, artifact_or_name: Any, type: str | None = None,
                     aliases: Iterable[str] | None = None,
                     use_as: str | None = None) -> ArtifactVersion:
        """``name``, ``name:alias``, ``entity/project/name:v3`` or a version; ``type``, if
        given, must be the version's; ``use_as`` is accepted and unused. An ``Artifact`` not
        yet logged is logged first (as W&B does), then used."""
        from gittrack.artifacts.artifact import Artifact

        if isinstance(artifact_or_name, Artifact):
            artifact_or_name = self.log_artifact(artifact_or_name, aliases=aliases)
        elif isinstance(artifact_or_name, str):
            from gittrack.artifacts.view import ArtifactVersion

            artifact_or_name = ArtifactVersion.resolve(self.gittrack_run._own_repo(),
                                                       artifact_or_name.rsplit("/", 1)[-1])
        if type is not None and artifact_or_name.type != type:  # checked before it is recorded
            raise UsageError(f"artifact {artifact_or_name.spec} has type "
                             f"{artifact_or_name.type!r}, not {type!r}")
        return self.gittrack_run.use_artifact(artifact_or_name)

    def log_code(self, root: str | os.PathLike[str] | None = ".", name: str | None = None,
                 include_fn: Any = None, exclude_fn: Any = None) -> Any:
        return self.gittrack_run.log_code(root if root is not None else ".", name, include_fn,
                                          exclude_fn)

    def mark_preempting(self) -> None:
        """Accepted: a preempted run that dies is recovered as ``crashed`` and resumable."""

    def status(self) -> dict[str, Any]:
        return {"state": str(self.gittrack_run.state)}

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        self.gittrack_run.finish(exit_code=exit_code or 0, quiet=quiet)
        from gittrack.wandb import _session

        _session.forget(self)

    def _save_dir(self) -> None:
        """Every file in ``run.dir`` is saved at finish, as W&B uploads its files folder."""
        if not self._dir.is_dir() or not any(self._dir.iterdir()):
            return
        try:
            self.gittrack_run.save(str(self._dir / "**" / "*"), base_path=self._dir,
                                   policy="now")
        except (GittrackError, OSError) as exc:
            warnings.warn(f"gittrack: the files in {self._dir} are not saved: {exc}",
                          GittrackWarning, stacklevel=2)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"<gittrack.wandb.Run {self.display_name!r} id={self.id}>"


def _default_dir(run: GittrackRun) -> Path:
    from gittrack.git.repo import gittrack_dir

    return gittrack_dir(run._repo) / "wandb"


def _histograms(data: Any) -> dict[str, Any] | None:
    """``data`` with arrays, tensors and lists of several numbers as ``Histogram``s (W&B logs
    them so), or ``None`` if there is none."""
    from gittrack.formats.histogram import Histogram

    if not isinstance(data, Mapping):
        return None
    out: dict[str, Any] = {}
    changed = False
    for key, value in data.items():
        if isinstance(value, (list, tuple)) and len(value) > 1 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            out[key] = Histogram(list(value))  # a list of numbers: W&B logs a histogram too
            changed = True
            continue
        shape = getattr(value, "shape", None)
        if shape is not None and len(tuple(shape)) > 0 and not isinstance(value, Histogram):
            size = 1
            for n in tuple(shape):
                size *= int(n)
            if size > 1:
                out[key] = Histogram(value.detach().cpu().numpy() if hasattr(value, "detach")
                                     else value)
                changed = True
                continue
        out[key] = value
    return out if changed else None


def _path_artifact(path: Any, name: str | None, type: str | None) -> Any:
    from gittrack.artifacts.artifact import Artifact

    local = Path(os.fspath(path))
    if not local.exists():
        raise UsageError(f"log_artifact: {local} does not exist")
    art = Artifact(name or _safe_name(local.name), type=type or "unspecified")
    if local.is_dir():
        art.add_dir(str(local))
    else:
        art.add_file(str(local))
    return art


def _safe_name(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).lstrip("._-")[:128] or "artifact"
