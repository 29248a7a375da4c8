"""Child interpreters: ``run_python``, and the training process that dies mid-run (killed
with SIGKILL, or leaving with ``os._exit``: no ``finish``, no atexit handlers)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.helpers.repos import git

KILL = "os.kill(os.getpid(), signal.SIGKILL)"
EXIT = "os._exit(0)"
NO_CHECKPOINT = "{'quiet': True, 'checkpoint_interval': 3600}"


def run_python(
    code: str, cwd: Path, *, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (for kill -9, fork and multi-process tests)."""
    env = dict(os.environ)
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-c", code], cwd=cwd, check=check, capture_output=True, text=True,
        env=env, **kwargs,
    )


def training_script(*, init: str = "", settings: str = NO_CHECKPOINT, steps: int = 0,
                    row: str = "{'x': i}", then: str = "", end: str = KILL) -> str:
    """A script that starts ``gittrack.init(<init>settings=<settings>)``, prints the run id,
    logs ``row`` for ``i`` in ``range(steps)``, runs ``then`` and ends with ``end``
    (``KILL``: SIGKILL itself; ``EXIT``: ``os._exit(0)``)."""
    return (f"import os, signal, gittrack\n"
            f"run = gittrack.init({init}settings={settings})\n"
            "print(run.id, flush=True)\n"
            f"for i in range({steps}):\n    run.log({row})\n"
            f"{then}{end}\n")


def killed(code: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``code``, which SIGKILLs itself, in a fresh interpreter; it must die that way."""
    proc = run_python(code, cwd, check=False, **kwargs)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc


def killed_run(cwd: Path, **script: Any) -> str:
    """The id of a run whose process was SIGKILLed mid-run (``script`` as for
    ``training_script``): its steps are only in its write-ahead log."""
    return killed(training_script(**script), cwd).stdout.strip()


def live_script(*, init: str = "", before: str = "", after: str = "") -> str:
    """A script for ``held``: starts ``gittrack.init(<init>settings={'quiet': True})``, runs
    ``before``, prints the run id, waits for a line on stdin, runs ``after`` and finishes."""
    return ("import sys, gittrack\n"
            f"run = gittrack.init({init}settings={{'quiet': True}})\n"
            f"{before}"
            "print(run.id, flush=True)\n"
            "sys.stdin.readline()\n"
            f"{after}"
            "run.finish()\n")


@contextlib.contextmanager
def held(code: str, cwd: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``code`` (with ``args`` as ``sys.argv[1:]``), which waits for a line on stdin (a run
    live in another process), in a fresh interpreter: yields the process and the first line it
    printed; on the way out, even a failing one, sends it the line and waits for it to end."""
    with subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        try:
            yield proc, proc.stdout.readline().strip()
        finally:
            proc.stdin.write("\n")
            proc.stdin.flush()


def linked_worktree(repo: Path) -> Path:
    """A linked worktree of ``repo`` (branch ``side``), beside it."""
    path = repo.parent / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", str(path))
    return path


def kill_in_worktree(repo: Path) -> tuple[Path, Path]:
    """A run killed in a linked worktree with 1,000 steps only in its log; (worktree, log).
    Refs are shared by the worktrees of a repository; write-ahead logs are per worktree."""
    linked = linked_worktree(repo)
    killed(training_script(init="id='wt', ", steps=1000, row="{'loss': float(i)}"), linked)
    log = repo / ".git" / "worktrees" / "linked" / "gittrack" / "wal" / "wt"
    assert log.is_dir()
    return linked, log


# Fills the disk the repository is on, then logs until log() refuses. Before write-ahead-log
# segments were reserved, the process died of SIGBUS (exit 135) instead.
LOG_UNTIL_FULL = """
import os, gittrack
from gittrack.errors import RepositoryError
interval = float(os.environ.get('CHECKPOINT_INTERVAL', '3600'))
run = gittrack.init(id='full', settings={'quiet': True, 'checkpoint_interval': interval})
fd = os.open('filler', os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(fd, b'f' * 4096)
except OSError:
    pass
os.close(fd)
n = 0
try:
    while True:
        run.log({'x': n, 'pad': 'p' * 300})
        n += 1
except RepositoryError as exc:
    print(n, exc, flush=True)
"""
