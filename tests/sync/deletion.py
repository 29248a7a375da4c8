"""Helpers for the deletion tests: runs with unique content, a bare remote, object checks."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import gittrack
from tests.conftest import FAST, git


def marker() -> str:
    return f"MARKER-{uuid.uuid4().hex}"


def make_run(mark: str | None = None, artifact: tuple[str, Path] | None = None,
             use: str | None = None, **init: Any) -> str:
    """A finished run with ``mark`` in its config and summary (plain YAML in git)."""
    with gittrack.init(settings=dict(FAST), config={"secret": mark or marker()}, **init) as run:
        run.log({"loss": 0.5, "note": mark or "plain"})
        if use is not None:
            run.use_artifact(use)
        if artifact is not None:
            art = gittrack.Artifact(artifact[0], type="model")
            art.add_file(str(artifact[1]))
            run.log_artifact(art)
        return run.id


def add_bare_remote(repo: Path, name: str = "origin") -> Path:
    bare = repo.parent / f"{name}-{uuid.uuid4().hex[:6]}.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo, "remote", "add", name, str(bare))
    return bare


def push_all(repo: Path, remote: str = "origin") -> None:
    git(repo, "push", "-q", remote, "+refs/gittrack/*:refs/gittrack/*")


def unique_objects(repo: Path, ref: str) -> list[str]:
    """Objects ``ref`` reaches that no other ref does (exactly: two full listings)."""
    others = [r for r in git(repo, "for-each-ref", "--format=%(refname)").split() if r != ref]
    mine = git(repo, "rev-list", "--objects", "--no-object-names", ref).split()
    theirs = set(git(repo, "rev-list", "--objects", "--no-object-names", *others).split())
    return [oid for oid in mine if oid not in theirs]


def has_object(repo: Path, oid: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", oid], cwd=repo,
                          capture_output=True).returncode == 0


def objects_containing(repo: Path, text: str) -> int:
    """How many objects (loose or packed, reachable or not) contain ``text``."""
    out = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo,
                         capture_output=True, check=True).stdout
    return out.count(text.encode())


def use_store(repo: Path, where: str, tmp: Path, s3: tuple[str, dict[str, str]] | None) -> str:
    """Configure the project's store: a local folder or the moto S3 bucket; returns its URL."""
    import pygit2

    from gittrack.storage.config import save_storage

    url, options = (str(tmp / "store"), {}) if where == "local" else s3  # type: ignore[misc]
    save_storage(pygit2.Repository(str(repo)), url, options, local=True)
    return url


def store_names(repo: Path) -> set[str]:
    import pygit2

    from gittrack.storage.project import open_storage

    return {b.name for b in open_storage(pygit2.Repository(str(repo))).store.iter_blobs()}
