"""`gittrack remote setup [REMOTE] [--push] [--undo]`."""

from __future__ import annotations

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import printable


@click.group("remote")
def command() -> None:
    """Make plain `git fetch` / `git push` carry runs and artifacts too."""


@command.command("setup")
@click.argument("remote", required=False)
@click.option("--push", "with_push", is_flag=True,
              help="Also make plain `git push` push runs (adds HEAD and refs/gittrack/* push "
                   "refspecs, and installs the pre-push hook that uploads blobs first and refuses "
                   "a push that would bring back refs deleted on the remote).")
@click.option("--undo", is_flag=True, help="Remove the refspecs gittrack added.")
@click.pass_obj
def setup(obj: CliContext, remote: str | None, with_push: bool, undo: bool) -> None:
    """Add refspecs to REMOTE (default: the branch's remote): `git fetch` updates
    refs/gittrack-remotes/REMOTE/* (read by `gittrack pull`); with --push, `git push` sends
    the current branch and refs/gittrack/* (see docs/sync.md). Also enables REMOTE for
    gittrack (remote.REMOTE.gittrack = true): runs go only to enabled remotes, the first
    remote (origin) while none is set."""
    from gittrack.git import transport
    from gittrack.hooks.install import install
    from gittrack.sync import remote_setup

    repo = obj.git(recover=False)
    remote = remote or transport.default_remote(repo)
    if undo:
        lines = remote_setup.undo(repo, remote)
    else:
        lines = remote_setup.setup(repo, remote, push=with_push)
        if with_push:
            click.echo(printable(f"installed {install(repo).path} (uploads blobs before git "
                                 "pushes refs)"))
    verb = "removed" if undo else "added"
    for line in lines:
        click.echo(f"{verb} {line}")
    if not lines:
        click.echo("nothing to change")
