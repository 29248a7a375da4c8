"""Reading never writes: a dead run to read, and what a repository holds (every ref, every
object, every write-ahead log byte) to prove a reader wrote nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.helpers.processes import killed
from tests.helpers.repos import git

# A run whose process is killed (SIGKILL) with its steps in its write-ahead log only.
KILLED = """
import os, signal, gittrack
run = gittrack.init(id={run_id!r}, name={run_id!r},
                    settings={{'quiet': True, 'checkpoint_interval': 3600}})
for i in range(5):
    run.log({{'x': i}})
os.kill(os.getpid(), signal.SIGKILL)
"""


def kill(repo: Path, run_id: str) -> None:
    """``run_id`` killed after 5 steps, all of them in its write-ahead log only."""
    killed(KILLED.format(run_id=run_id), repo)


def files(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative path -> SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def state(repo: Path) -> dict[str, object]:
    """Refs (``refs/gittrack*`` included), objects (loose and packed) and the WAL folders."""
    git_dir = repo / ".git"
    return {
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "count": git(repo, "count-objects", "-v"),
        "objects": files(git_dir / "objects"),
        "wal": files(git_dir / "gittrack" / "wal"),
    }
