"""Shared steps of the sync tests: configure storage, log runs with artifacts, read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2

import gittrack
from gittrack.git import objects, refs
from gittrack.storage.config import save_storage
from gittrack.types import CommitId, RefName
from tests.conftest import git

RUNS = "refs/gittrack/runs/"


def share_storage(clone: Path, url: str, options: dict[str, Any] | None = None) -> None:
    """Commit and push ``.gittrack/config.yaml`` pointing at the team's store."""
    save_storage(pygit2.Repository(str(clone)), url, options or {}, local=False)
    git(clone, "add", ".gittrack/config.yaml")
    git(clone, "commit", "-q", "-m", "storage")
    git(clone, "push", "-q", "origin", "main")


def log_run(clone: Path, settings: dict[str, object], *, data: str | None = "1,2,3\n",
            steps: int = 3, name: str = "data") -> str:
    """A finished run in ``clone``, logging ``data`` as artifact ``name`` (alias ``best``)."""
    with gittrack.init(repo=str(clone), settings=settings) as run:
        for step in range(steps):
            run.log({"loss": 1.0 / (step + 1)})
        if data is not None:
            path = clone / f"{name}.csv"
            path.write_text(data)
            artifact = gittrack.Artifact(name, "dataset")
            artifact.add_file(path)
            run.log_artifact(artifact, aliases=["best"])
    return run.id


def refs_of(path: Path, prefix: str = "refs/gittrack/") -> dict[str, str]:
    out = git(path, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
    return dict(line.split(" ", 1)[::-1][::-1] for line in out.splitlines())  # type: ignore[misc]


def fake_runs(clone: Path, count: int) -> dict[str, str]:
    """``count`` run refs, each a one-commit chain with its own content (push and pull read
    no run files), written in one transaction."""
    repo = pygit2.Repository(str(clone))
    made = {}
    for i in range(count):
        tree = objects.write_tree(repo, None, {"run.yaml": f"id: r{i:04d}\n".encode()})
        made[f"{RUNS}r{i:04d}"] = objects.commit(repo, tree, [], f"run {i}")
    assert refs.update_refs(repo, [refs.RefUpdate(RefName(r), CommitId(s))
                                   for r, s in made.items()]) == ()
    return made


def advance(clone: Path, ref: str, text: str) -> str:
    """One more checkpoint on ``ref`` (a commit on top of its head)."""
    repo = pygit2.Repository(str(clone))
    head = refs.get_ref(repo, RefName(ref))
    assert head is not None
    tree = objects.write_tree(repo, None, {"run.yaml": text.encode()})
    new = objects.commit(repo, tree, [head], text)
    refs.update_ref(repo, RefName(ref), new, head)
    return new


__all__ = ["RUNS", "advance", "fake_runs", "log_run", "refs_of", "share_storage"]
