"""`gittrack pull [REMOTE]` and `gittrack fetch [REMOTE]`."""

from __future__ import annotations

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps
from gittrack.cli.sync_render import pull_dict, pull_lines
from gittrack.sync.pull import PullReport


@click.command("pull")
@click.argument("remote", required=False)
@click.option("--force", is_flag=True,
              help="Also take the remote's version of runs and artifacts that diverged "
                   "(each replaced one is named, with the command that restores it).")
@click.option("--artifacts", is_flag=True,
              help="Download the blobs of the artifact versions pulled now (default: when "
                   "first used).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def pull_command(obj: CliContext, remote: str | None, force: bool, artifacts: bool,
                 as_json: bool) -> None:
    """Fetch runs and artifacts (refs/gittrack/*) and fast-forward the local ones; a run or
    artifact that diverged is reported and kept both ways, never overwritten silently."""
    from gittrack.sync.pull import pull

    _show(pull(obj.git(), remote, force=force, artifacts=artifacts), as_json)


@click.command("fetch")
@click.argument("remote", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def fetch_command(obj: CliContext, remote: str | None, as_json: bool) -> None:
    """Fetch the remote's runs and artifacts into refs/gittrack-remotes/REMOTE/* and report
    how they stand; no local run or artifact changes."""
    from gittrack.sync.pull import fetch

    _show(fetch(obj.git(), remote), as_json)


def _show(report: PullReport, as_json: bool) -> None:
    if as_json:
        click.echo(dumps(pull_dict(report)))
        return
    for line in pull_lines(report):
        click.echo(line)
