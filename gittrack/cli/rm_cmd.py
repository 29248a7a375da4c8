"""`gittrack rm RUN...`: delete runs here and, with --remote, on the remote in one push."""

from __future__ import annotations

import click

from gittrack.cli.confirm import confirm
from gittrack.cli.context import CliContext
from gittrack.errors import ConflictError
from gittrack.runs.resolve import resolve_run
from gittrack.sync.delete import DeleteReport, delete_runs


@click.command("rm")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.option("--remote", metavar="REMOTE", default=None,
              help="Also delete the runs on this git remote (one push).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def command(obj: CliContext, runs: tuple[str, ...], remote: str | None, yes: bool) -> None:
    """Delete runs: refs, reflog entries and the objects only they reached."""
    repo = obj.git()
    views = [resolve_run(repo, spec, invalid_ok=True) for spec in runs]
    names = ", ".join(f"{v.id} ({v.readable_name() or 'cannot be read'})" for v in views)
    where = f" here and on {remote}" if remote else ""
    confirm(f"delete {len(views)} run(s){where}: {names}?", yes=yes)
    report = delete_runs(repo, [v.id for v in views], remote=remote)
    click.echo(describe(report, "run(s)"))
    check_skipped(report)


def describe(report: DeleteReport, what: str) -> str:
    deleted = sum(1 for r in report.changed)
    lines = [f"deleted {deleted} ref(s) of {what}; pruned {report.pruned} object(s)"]
    if report.remote is not None:
        lines.append(f"deleted {len(report.remote_changed)} ref(s) on {report.remote}")
    return "\n".join(lines + tail(report))


def tail(report: DeleteReport) -> list[str]:
    """Where the deleted data still is, and what `gittrack gc` is left to do."""
    lines = [f"not changed: {ref} moved meanwhile or another process is writing it"
             for ref in report.skipped]
    if report.elsewhere:
        names = ", ".join(report.elsewhere)
        lines.append(f"still on {names}: run again with --remote {report.elsewhere[0]}")
    if report.kept:
        lines.append(f"{len(report.kept)} object(s) could not be removed (an alternate "
                     "object store or a .keep pack holds them)")
    lines.append("storage blobs are reclaimed by `gittrack gc`")
    return lines


def check_skipped(report: DeleteReport) -> None:
    """A ref left as it was (compare-and-swap) fails the command, as it did when refs were
    deleted one by one: the rest is done, and running it again finishes the job."""
    if report.skipped:
        raise ConflictError(f"{len(report.skipped)} ref(s) moved or are being written by "
                            "another process and were left as they are; run the command "
                            "again")
