"""The ``gittrack`` command: a click group, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from gittrack._version import __version__
from gittrack.cli.context import CliContext
from gittrack.errors import GittrackError

INTERNAL_ERROR_EXIT = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--repo", "repo", metavar="PATH", default=None,
              help="Use the git repository at PATH, as `git -C PATH` does.")
@click.option("--debug", is_flag=True, help="Show a full traceback on errors.")
@click.version_option(__version__, prog_name="gittrack")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, debug: bool) -> None:
    """Git-native experiment tracking: runs are commits on refs/gittrack/*."""
    ctx.obj = CliContext(repo=repo or os.environ.get("GITTRACK_REPO"), debug=debug)


def _register() -> None:
    from gittrack.cli import (
        artifact_cmd,
        demo_cmd,
        diff_cmd,
        export_cmd,
        gc_cmd,
        hooks_cmd,
        keys_cmd,
        log_cmd,
        pull_cmd,
        purge_cmd,
        push_cmd,
        recover_cmd,
        remote_cmd,
        rm_cmd,
        runs_cmd,
        show_cmd,
        storage_cmd,
    )

    for module in (runs_cmd, show_cmd, diff_cmd, log_cmd, export_cmd, recover_cmd, demo_cmd):
        cli.add_command(module.command)
    cli.add_command(keys_cmd.command)
    cli.add_command(artifact_cmd.command)
    cli.add_command(storage_cmd.command)
    for module in (rm_cmd, gc_cmd, purge_cmd):
        cli.add_command(module.command)
    cli.add_command(push_cmd.command)
    cli.add_command(pull_cmd.pull_command)
    cli.add_command(pull_cmd.fetch_command)
    cli.add_command(hooks_cmd.command)
    cli.add_command(remote_cmd.command)


_register()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: one line on stderr and a stable exit code for every error."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("GITTRACK_DEBUG"))
    try:
        return cli.main(args=args, prog_name="gittrack", standalone_mode=False)
    except GittrackError as exc:
        if debug:
            raise
        click.echo(f"gittrack: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("gittrack: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # `gittrack runs | head`
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:  # a bug: say so in one line, traceback with --debug
        if debug:
            raise
        click.echo(
            f"gittrack: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback)", err=True,
        )
        sys.exit(INTERNAL_ERROR_EXIT)
