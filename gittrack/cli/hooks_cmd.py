"""`gittrack hooks install|uninstall|pre-push|check-large-files`."""

from __future__ import annotations

import os
import sys

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import printable
from gittrack.errors import DeletedOnRemoteError, GittrackError


@click.group("hooks")
def command() -> None:
    """Git hooks: push runs with the code (pre-push), keep large data files out of git."""


@command.command("install")
@click.pass_obj
def install(obj: CliContext) -> None:
    """Install the pre-push hook that pushes runs and artifacts with the code
    (git config gittrack.prePush all|code|off); a hook already there is kept and run first.
    Also makes git diff and git log -p show Parquet run files as text (gittrack textconv)."""
    from gittrack.hooks.install import install as do_install

    change = do_install(obj.git(recover=False))
    click.echo(printable(f"installed {change.path}"))
    click.echo("git diff and git log -p show run files as text (diff.gittrack.textconv, "
               ".git/info/attributes)")
    if change.chained is not None:
        click.echo(f"the hook that was there runs first, as {change.chained.name}")


@command.command("uninstall")
@click.pass_obj
def uninstall(obj: CliContext) -> None:
    """Remove gittrack's pre-push hook (and put back the one it chained, if any) and its
    diff driver."""
    from gittrack.hooks.install import uninstall as do_uninstall

    change = do_uninstall(obj.git(recover=False))
    if not change.changed:
        click.echo(printable(f"no gittrack hook at {change.path}; nothing changed"))
        return
    restored = f"; restored the previous hook from {change.chained.name}" \
        if change.chained else ""
    click.echo(printable(f"removed {change.path}{restored}"))


@command.command("pre-push", hidden=True)
@click.argument("remote", required=False)
@click.argument("url", required=False)
@click.pass_obj
def pre_push(obj: CliContext, remote: str | None, url: str | None) -> None:
    """Run by the pre-push hook: git gives REMOTE and URL, and the pushed refs on stdin
    (the pre-commit framework gives them in PRE_COMMIT_* variables instead)."""
    from gittrack.hooks.prepush import run_hook, strict

    if remote is None:
        remote, lines = _from_pre_commit()
    else:
        lines = sys.stdin.read().splitlines() if not sys.stdin.isatty() else []
    repo = None
    try:
        repo = obj.git()
        report = run_hook(repo, remote, lines)  # a name, or the URL of an unnamed remote
    except DeletedOnRemoteError:
        raise  # blocks the push, strict or not: the user can fix it (pull, or push --force)
    except GittrackError as exc:
        if repo is not None and strict(repo):
            raise
        click.echo(f"gittrack: warning: runs were not pushed: {exc} (the code push goes "
                   "on; run `gittrack push` later)", err=True)
        return
    if isinstance(report, str):
        click.echo(f"gittrack: {report}", err=True)
        return
    from gittrack.cli.sync_render import push_lines  # loaded only when there is a report

    for line in push_lines(report) if report else []:
        click.echo(f"gittrack: {line}", err=True)


def _from_pre_commit() -> tuple[str | None, list[str]]:
    env = os.environ
    line = " ".join(env.get(k, "") or "-" for k in (
        "PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_TO_REF", "PRE_COMMIT_REMOTE_BRANCH",
        "PRE_COMMIT_FROM_REF"))
    return env.get("PRE_COMMIT_REMOTE_NAME") or None, [line]


@command.command("check-large-files")
@click.argument("files", nargs=-1)
@click.option("--max-size", default="5MB", show_default=True,
              help="Refuse files larger than this (5MB, 500KB, 1GiB, bytes).")
def check_large_files(files: tuple[str, ...], max_size: str) -> None:
    """Refuse FILES larger than --max-size (for pre-commit): data belongs in an artifact."""
    from gittrack.hooks.largefiles import advice, parse_size, too_large

    found = too_large(files, parse_size(max_size))
    for item in found:
        click.echo(advice(item), err=True)
    if found:
        sys.exit(1)
