"""`gittrack recover`: fold the write-ahead logs of runs whose process died."""

from __future__ import annotations

import click
import pygit2
from rich.text import Text

from gittrack.cli.console import make_console, state_text
from gittrack.cli.context import CliContext
from gittrack.errors import FormatError, RepositoryError
from gittrack.git.repo import gittrack_dir
from gittrack.runs import store
from gittrack.runs.recover import recover_dead_runs
from gittrack.runs.view import RunView
from gittrack.runs.wal import wal_root
from gittrack.types import RunId


@click.command("recover")
@click.pass_obj
def command(obj: CliContext) -> None:
    """Recover runs whose process died: their logged steps are committed, marked `crashed`.

    Every other command does this first as well; runs still being written are left alone.
    """
    repo = obj.git(recover=False)
    recovered = _recover(repo)
    console = make_console()
    for run_id in recovered:
        console.print(_recovered_line(repo, run_id))
    if not recovered:
        console.print("nothing to recover")
    for run_id in live_runs(repo):
        console.print(f"run {run_id} is being written by a live process: left alone")


def _recover(repo: pygit2.Repository) -> list[RunId]:
    try:
        return recover_dead_runs(repo)
    except OSError as exc:
        reason = exc.strerror or exc
        raise RepositoryError(f"cannot recover runs in {repo.path}: {reason}") from None


def _recovered_line(repo: pygit2.Repository, run_id: RunId) -> Text:
    head = store.head(repo, run_id)
    if head is None:  # died before its first checkpoint: nothing was committed
        return Text(f"removed the empty write-ahead log of run {run_id}")
    view = RunView(repo, run_id, head)
    try:
        state, steps = view.state, view.metadata.get("steps")
    except FormatError as exc:
        return Text(f"recovered run {run_id} (cannot read it back: {exc})")
    return Text.assemble("recovered run ", (view.name, "bold"), f" ({run_id}): ",
                         state_text(state), f", {steps} steps")


def live_runs(repo: pygit2.Repository) -> list[RunId]:
    """Runs whose write-ahead log is still held by a live process."""
    root = wal_root(gittrack_dir(repo))
    if not root.is_dir():
        return []
    return sorted(RunId(p.name) for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith("."))
