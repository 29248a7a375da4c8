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
@click.option("--media", is_flag=True,
              help="Download the media, console output and saved code of the runs pulled "
                   "now, so they read offline (default: each when first read).")
@click.option("--no-prune", is_flag=True,
              help="Keep runs, artifacts and aliases deleted on the remote (default: delete "
                   "those unchanged here since the last sync).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def pull_command(obj: CliContext, remote: str | None, force: bool, artifacts: bool,
                 media: bool, no_prune: bool, as_json: bool) -> None:
    """Fetch runs and artifacts (refs/gittrack/*) and fast-forward the local ones; a run or
    artifact that diverged is reported and kept both ways, never overwritten silently.

    Runs, artifacts and aliases deleted on the remote are deleted here too, unless they have
    local changes (`--no-prune` keeps them all)."""
    from gittrack.sync.pull import pull

    repo = obj.git()
    _show(pull(repo, remote, force=force, artifacts=artifacts, media=media,
               prune=not no_prune), as_json)


@click.command("fetch")
@click.argument("remote", required=False)
@click.option("--no-prune", is_flag=True,
              help="Report as a `pull --no-prune` would (refs deleted on the remote kept).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def fetch_command(obj: CliContext, remote: str | None, no_prune: bool, as_json: bool) -> None:
    """Fetch the remote's runs and artifacts into refs/gittrack-remotes/REMOTE/* and report
    how they stand; no local run or artifact changes."""
    from gittrack.sync.pull import fetch

    repo = obj.git()
    _show(fetch(repo, remote, prune=not no_prune), as_json)


def _show(report: PullReport, as_json: bool) -> None:
    if as_json:
        click.echo(dumps(pull_dict(report)))
        return
    for line in pull_lines(report):
        click.echo(line)
