"""Run commits made by hand, as a malicious or broken remote could send them."""

from __future__ import annotations

from pathlib import Path

import pygit2

from gittrack.git import objects
from gittrack.runs import layout
from gittrack.types import CommitId, RunId

RUN_YAML = ("format: 1\nid: {id}\nname: {id}\nstate: finished\n"
            "created_at: '2026-01-01T00:00:0{n}.0Z'\n")


def run_yaml(run_id: str, n: int = 0) -> bytes:
    return RUN_YAML.format(id=run_id, n=n).encode()


def forge_run(path: Path, run_id: str, files: dict[str, bytes]) -> CommitId:
    """A one-commit run under ``run_id``'s ref with exactly ``files`` ("dir/name" paths make
    folders: ``{"run.yaml/x": b""}`` puts a folder where run.yaml should be)."""
    repo = pygit2.Repository(str(path))
    tree = objects.write_tree(repo, None, files)
    commit = objects.commit(repo, tree, [], "forged")
    repo.references.create(layout.run_ref(RunId(run_id)), commit, force=True)
    return commit


def delete_loose_object(path: Path, oid: str) -> None:
    """Remove one object from a repository whose objects are loose (a fresh test repo)."""
    (path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
