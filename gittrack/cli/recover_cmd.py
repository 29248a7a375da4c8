"""`gittrack recover`: fold the write-ahead logs of runs whose process died."""

from __future__ import annotations

import click
from rich.text import Text

from gittrack.cli.console import make_console, state_text
from gittrack.cli.context import CliContext
from gittrack.errors import FormatError, GittrackError
from gittrack.git.repo import Repository
from gittrack.runs import store
from gittrack.runs.recover import recover_all
from gittrack.runs.view import RunView
from gittrack.types import RunId


@click.command("recover")
@click.pass_obj
def command(obj: CliContext) -> None:
    """Recover runs whose process died: their logged steps are committed, marked `crashed`.

    Every command that writes does this first as well (commands that only read show such a run
    as `crashed` and name it in a warning); runs still being written are left alone.
    A run that cannot be recovered is listed with the reason (its log is kept) and the exit
    code is not 0.
    """
    repo = obj.git(recover=False)
    report = recover_all(repo, retry=True)
    console = make_console()
    for run_id in report.recovered:
        console.print(_recovered_line(repo, run_id))
    for bad in report.unrecovered:
        what = "recovered run {} from a damaged log" if bad.damaged else "could not recover run {}"
        console.print(Text(f"{what.format(bad.run_id)}: {bad.reason}; its write-ahead log is "
                           f"kept in {bad.directory}"))
    if not report.recovered and not report.unrecovered:
        console.print("nothing to recover")
    for run_id in report.live:
        console.print(f"run {run_id} is being written by a live process: left alone")
    failed = [bad for bad in report.unrecovered if not bad.damaged]
    if failed:
        count = len(failed)
        raise GittrackError(
            f"{count} run{'s' if count > 1 else ''} could not be recovered (listed above); "
            "nothing was deleted: fix the cause and run `gittrack recover` again"
        )
    if report.unrecovered:
        raise GittrackError("records were lost to damaged write-ahead logs (listed above); "
                            "each log is kept: delete its folder once you have looked at it")


def _recovered_line(repo: Repository, run_id: RunId) -> Text:
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

