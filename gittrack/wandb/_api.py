"""``wandb.Api()``: W&B's read API over ``gittrack.Api`` (the runs of this repository).

W&B's paths name ``entity/project``: the project is gittrack's ``project`` field; the entity
is the repository itself (any entity matches, and ``run.yaml``'s ``wandb.entity`` records the
one a run was started with). Filters are W&B's MongoDB-style dicts (``runs.query``), with W&B's
field names mapped (``display_name`` → ``name``, ``createdAt`` → ``created_at``,
``jobType`` → ``job_type``; ``config.KEY``, ``summary_metrics.KEY`` as they are).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gittrack.api.public import Api as _Api
from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import UsageError
from gittrack.runs.view import RunView
from gittrack.wandb._files import run_id_of

_FIELDS = {"display_name": "name", "displayName": "name", "createdAt": "created_at",
           "jobType": "job_type", "summaryMetrics": "summary_metrics", "username": "user"}
_DEFAULT_ENTITY = "gittrack"


class Api:
    """``wandb.Api(overrides=None, timeout=None, api_key=None)``: reads this repository
    (``GITTRACK_REPO`` or the current folder; ``repo=`` to choose); no network."""

    def __init__(self, overrides: Mapping[str, Any] | None = None, timeout: int | None = None,
                 api_key: str | None = None, *, repo: str | os.PathLike[str] | None = None,
                 **kwargs: Any) -> None:
        self.settings = dict(overrides or {})
        self._api = _Api(repo if repo is not None else os.environ.get("GITTRACK_REPO") or ".")

    @property
    def default_entity(self) -> str:
        return str(self.settings.get("entity") or _DEFAULT_ENTITY)

    def runs(self, path: str | None = None, filters: Mapping[str, Any] | None = None,
             order: str = "+created_at", per_page: int = 50, include_sweeps: bool = True,
             lazy: bool = True, **kwargs: Any) -> list[ApiRun]:
        """The runs of project ``path`` (``"entity/project"`` or ``"project"``; ``None``:
        every run) matching W&B ``filters``, sorted by ``order`` (``"+created_at"``,
        ``"-summary_metrics.loss"``, ``"config.lr"`` ...)."""
        wanted: list[Mapping[str, Any]] = []
        project = _project_of(path)
        if project is not None:
            wanted.append({"project": project})
        if filters:
            wanted.append(_mapped(filters))
        combined = {"$and": wanted} if len(wanted) > 1 else (wanted[0] if wanted else None)
        views = self._api.runs(combined)
        return [ApiRun(v) for v in _ordered(views, order)]

    def run(self, path: str) -> ApiRun:
        """``"entity/project/run_id"`` (or ``"entity/project/runs/run_id"``, a bare id, an id
        prefix or a run name)."""
        return ApiRun(self._api.run(run_id_of(path)))

    def artifact(self, name: str, type: str | None = None) -> ArtifactVersion:
        """``"name:alias"`` or ``"entity/project/name:v3"``; ``type``, if given, must match."""
        version = self._api.artifact(name.rsplit("/", 1)[-1])
        if type is not None and version.type != type:
            raise UsageError(f"artifact {version.spec} has type {version.type!r}, not {type!r}")
        return version

    def artifacts(self, type_name: str | None = None, name: str | None = None,
                  **kwargs: Any) -> list[ArtifactVersion]:
        versions = self._api.artifacts(None if name is None else name.rsplit("/", 1)[-1])
        return [v for v in versions if type_name is None or v.type == type_name]

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        from gittrack.errors import GittrackError

        try:
            self.artifact(name, type)
        except GittrackError:
            return False
        return True

    def project(self, name: str, entity: str | None = None) -> dict[str, Any]:
        return {"name": name, "entity": entity or self.default_entity}

    def flush(self) -> None:
        """W&B drops its cache here; gittrack reads the repository each time."""


class ApiRun:
    """A run as ``wandb.Api().run()`` returns it: ``gittrack.RunView`` (``.view``) with W&B's
    names (``display_name``, ``summary_metrics``, ``path``, ``history(samples=, keys=,
    pandas=)``, ``files()``, ``file(name).download()``)."""

    def __init__(self, view: RunView) -> None:
        self.view = view

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.view, name)

    @property
    def id(self) -> str:
        return str(self.view.id)

    @property
    def display_name(self) -> str:
        return self.view.name

    @property
    def entity(self) -> str:
        recorded = self.view.metadata.get("wandb")
        entity = recorded.get("entity") if isinstance(recorded, dict) else None
        return str(entity or _DEFAULT_ENTITY)

    @property
    def path(self) -> list[str]:
        return [self.entity, self.view.project or "", self.id]

    @property
    def summary_metrics(self) -> dict[str, Any]:
        return self.view.summary

    @property
    def created_at(self) -> str:
        return self.view.created_at

    def history(self, samples: int = 500, keys: Any = None, x_axis: str = "_step",
                pandas: bool = True, stream: str = "default") -> Any:
        """The full history (gittrack never samples; ``samples`` is accepted and unused)."""
        frame = self.view.history(keys, "pandas" if pandas else "arrow", stream=stream)
        return frame if pandas else frame.to_pylist()

    def scan_history(self, keys: Any = None, page_size: int = 1000, min_step: int | None = None,
                     max_step: int | None = None) -> Any:
        for row in self.view.scan_history(keys):
            step = int(row.get("_step") or 0)
            if (min_step is None or step >= min_step) and (max_step is None or step < max_step):
                yield row

    def files(self) -> list[SavedFile]:
        """The files the run saved (``wandb.save``)."""
        from gittrack.runs.files import stored_files

        return [SavedFile(self, e.path, e.size)
                for e in stored_files(self.view.repo, self.view.commit)]

    def file(self, name: str) -> SavedFile:
        return SavedFile(self, name, None)

    def logged_artifacts(self) -> list[ArtifactVersion]:
        return self.view.logged_artifacts()

    def used_artifacts(self) -> list[ArtifactVersion]:
        return self.view.used_artifacts()

    def __repr__(self) -> str:
        return f"<Run {'/'.join(self.path)} ({self.view.state})>"


class SavedFile:
    """One saved file of a run: ``download(root=".", replace=False)`` opens it."""

    def __init__(self, run: ApiRun, name: str, size: int | None) -> None:
        self.run, self.name, self.size = run, name, size

    def download(self, root: str | os.PathLike[str] = ".", replace: bool = False,
                 exist_ok: bool = False, **kwargs: Any) -> Any:
        from gittrack.wandb._files import restore

        return restore(self.name, run_path=self.run.id, replace=replace, root=Path(root))


def _project_of(path: str | None) -> str | None:
    if path is None:
        return None
    parts = [p for p in path.strip().strip("/").split("/") if p]
    return parts[-1] if parts else None


def _mapped(filters: Any) -> Any:
    """W&B's filter field names as ``runs.query``'s."""
    if isinstance(filters, Mapping):
        return {_field(k): _mapped(v) if k in ("$and", "$or") else v
                for k, v in filters.items()}
    if isinstance(filters, list):
        return [_mapped(f) for f in filters]
    return filters


def _field(key: Any) -> Any:
    if not isinstance(key, str):
        return key
    head, dot, rest = key.partition(".")
    if head == "config" and rest.endswith(".value"):  # W&B's stored shape: config.lr.value
        rest = rest[: -len(".value")]
    return _FIELDS.get(head, head) + dot + rest


def _ordered(views: Sequence[RunView], order: str | None) -> list[RunView]:
    if not order:
        return list(views)
    descending = order.startswith("-")
    field = _field(order.lstrip("+-"))
    from gittrack.runs.query import MISSING, lookup

    present = [(lookup(v, field), v) for v in views]
    known = [(k, v) for k, v in present if k is not MISSING and k is not None]
    unknown = [v for k, v in present if k is MISSING or k is None]
    try:
        known.sort(key=lambda kv: kv[0], reverse=descending)
    except TypeError:  # mixed types: as text
        known.sort(key=lambda kv: str(kv[0]), reverse=descending)
    return [v for _, v in known] + unknown
