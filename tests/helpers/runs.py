"""Runs made with the real API: one factory (``make_run``) and the content presets tests
share (a marked run, a run with a dataset artifact)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import gittrack

# Checkpoints often enough for a test to see one, and nothing printed.
FAST = {"checkpoint_interval": 0.2, "quiet": True}


def start_run(**init: Any) -> gittrack.Run:
    """A live run, ``gittrack.init(**init)`` with ``FAST`` settings unless given."""
    init.setdefault("settings", FAST)
    return gittrack.init(**init)


def make_run(rows: Iterable[Mapping[str, Any]] = (), *, exit_code: int = 0,
             use: str | None = None, artifact: tuple[str, Path] | None = None,
             artifact_type: str = "model", aliases: Sequence[str] | None = None,
             **init: Any) -> gittrack.Run:
    """A finished run: ``rows`` logged in order, then ``use`` (a version used as input), then
    ``artifact`` (``(name, file)``, logged with ``aliases``); ``init`` goes to
    ``gittrack.init`` (``settings`` default to ``FAST``)."""
    run = start_run(**init)
    for row in rows:
        run.log(dict(row))
    if use is not None:
        run.use_artifact(use)
    if artifact is not None:
        art = gittrack.Artifact(artifact[0], type=artifact_type)
        art.add_file(str(artifact[1]))
        run.log_artifact(art, aliases=aliases)
    run.finish(exit_code=exit_code)
    return run


def marker() -> str:
    return f"MARKER-{uuid.uuid4().hex}"


def marked_run(mark: str | None = None, **kwargs: Any) -> str:
    """A finished run with ``mark`` (default: a fresh marker, so every such run has objects of
    its own) in its config and summary (plain YAML in git); returns its id. ``kwargs`` as for
    ``make_run``."""
    return make_run([{"loss": 0.5, "note": mark or "plain"}],
                    config={"secret": mark or marker()}, **kwargs).id


def log_run(clone: Path, settings: dict[str, object], *, data: str | None = "1,2,3\n",
            steps: int = 3, name: str = "data") -> str:
    """A finished run in ``clone``, logging ``data`` as artifact ``name`` (type dataset, alias
    ``best``); returns its id."""
    artifact = None
    if data is not None:
        path = clone / f"{name}.csv"
        path.write_text(data)
        artifact = (name, path)
    rows = [{"loss": 1.0 / (step + 1)} for step in range(steps)]
    return make_run(rows, repo=str(clone), settings=settings, artifact=artifact,
                    artifact_type="dataset", aliases=["best"]).id


def log_versions(repo: Path, count: int, name: str = "model") -> list[str]:
    """``count`` versions of ``name`` (contents ``v0``, ``v1``, ...); the producing runs."""
    made = []
    for i in range(count):
        (repo / "w.bin").write_bytes(f"weights {name} v{i}".encode())
        made.append(marked_run(artifact=(name, repo / "w.bin")))
    return made
