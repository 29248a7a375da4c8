"""`gittrack purge [RUN]`: delete a run everywhere now, with the blobs only it referenced;
finish a purge that was interrupted."""

from __future__ import annotations

import click

from gittrack.cli.confirm import confirm
from gittrack.cli.context import CliContext
from gittrack.cli.rm_cmd import check_skipped, describe
from gittrack.errors import UsageError
from gittrack.git import transport
from gittrack.runs.resolve import resolve_run
from gittrack.sync.purge import finish_interrupted, plan, purge


@click.command("purge")
@click.argument("run", metavar="[RUN]", required=False)
@click.option("--remote", metavar="REMOTE", default=None,
              help="The remote to delete it from (default: the branch's remote, if any).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def command(obj: CliContext, run: str | None, remote: str | None, yes: bool) -> None:
    """Delete RUN here, on the remote and in storage, now (no grace period).

    A purge that was interrupted is finished first (without RUN: only that)."""
    repo = obj.git()
    finished = finish_interrupted(repo)
    for done in finished:
        click.echo(f"finished the interrupted purge of run {done.run} ({done.name}): removed "
                   f"{len(done.blobs)} blob(s) from storage and {done.cache} local cache "
                   "entr(ies)")
    if run is None:
        if not finished:
            raise UsageError("name the run to purge (there is no interrupted purge to finish)")
        return
    if any(run in (done.name, done.run) or done.run.startswith(run) for done in finished):
        return  # the run it names is the one just finished
    view = resolve_run(repo, run, invalid_ok=True)
    if remote is None and transport.remotes(repo):
        remote = transport.default_remote(repo)
    what = plan(repo, view)
    also = f" and artifact(s) {', '.join(what.artifacts)}" if what.artifacts else ""
    where = f"here, on {remote} and in storage" if remote else "here and in storage"
    label = view.readable_name() or "cannot be read"
    confirm(f"purge run {view.id} ({label}){also} {where}?", yes=yes)
    report = purge(repo, view, remote=remote)
    click.echo(describe(report.refs, "the run and its artifacts").rsplit("\n", 1)[0])
    click.echo(f"removed {len(report.blobs)} blob(s) from storage and {report.cache} local "
               "cache entr(ies)")
    for kept in what.kept:
        click.echo(f"kept {kept}")
    check_skipped(report.refs)
