"""The ``gittrack`` command: a click group, and the one place errors become exit codes.

Commands are imported only when run (``LazyGroup``): ``COMMANDS`` names each one's module and
its short help for ``gittrack --help``; a test checks them against the commands themselves.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from gittrack._version import __version__
from gittrack.cli.context import CliContext
from gittrack.cli.lazy import LazyGroup
from gittrack.errors import GittrackError

INTERNAL_ERROR_EXIT = 70

# name -> ("module:attribute", short help as `gittrack --help` shows it, before any cut)
COMMANDS: dict[str, tuple[str, str]] = {
    "artifact": ("gittrack.cli.artifact_cmd:command",
                 "Versioned datasets and models: list, show, download, alias."),
    "demo": ("gittrack.cli.demo_cmd:command",
             "Try gittrack: train a tiny numpy model in a throwaway git repository, show the run."),
    "diff": ("gittrack.cli.diff_cmd:command",
             "Compare RUN_B with RUN_A (the baseline): config, summary, metadata, metrics, code."),
    "export": ("gittrack.cli.export_cmd:command",
               "Export each RUN (id, unique id prefix or name) to DIR/<run-id>/."),
    "fetch": ("gittrack.cli.pull_cmd:fetch_command",
              "Fetch the remote's runs and artifacts into refs/gittrack-remotes/REMOTE/* and "
              "report how they stand; no local run or artifact changes."),
    "gc": ("gittrack.cli.gc_cmd:command",
           "Remove stored blobs that no remaining run or artifact references."),
    "hooks": ("gittrack.cli.hooks_cmd:command",
              "Git hooks: push runs with the code (pre-push), keep large data files out of git."),
    "keys": ("gittrack.cli.keys_cmd:command",
             "Manage who can read this project's encrypted artifacts (age keys)."),
    "log": ("gittrack.cli.log_cmd:command",
            "Show the last rows of RUN's history (`_step` and the logged keys)."),
    "pull": ("gittrack.cli.pull_cmd:pull_command",
             "Fetch runs and artifacts (refs/gittrack/*) and fast-forward the local ones; a run "
             "or artifact that diverged is reported and kept both ways, never overwritten "
             "silently."),
    "purge": ("gittrack.cli.purge_cmd:command",
              "Delete RUN here, on the remote and in storage, now (no grace period)."),
    "push": ("gittrack.cli.push_cmd:command",
             "Share runs and artifacts: upload missing blobs, then push refs/gittrack/* in one "
             "atomic `git push` (default: the branch's remote, every run, artifact and alias)."),
    "recover": ("gittrack.cli.recover_cmd:command",
                "Recover runs whose process died: their logged steps are committed, marked "
                "`crashed`."),
    "remote": ("gittrack.cli.remote_cmd:command",
               "Make plain `git fetch` / `git push` carry runs and artifacts too."),
    "rm": ("gittrack.cli.rm_cmd:command",
           "Delete runs: refs, reflog entries and the objects only they reached."),
    "runs": ("gittrack.cli.runs_cmd:command", "List runs, newest first."),
    "show": ("gittrack.cli.show_cmd:command",
             "Show RUN (an id, a unique id prefix, or a name): metadata, config and summary."),
    "storage": ("gittrack.cli.storage_cmd:command",
                "Configure the blob store of artifacts (any fsspec URL or a local folder)."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--repo", "repo", metavar="PATH", default=None,
              help="Use the git repository at PATH, as `git -C PATH` does.")
@click.option("--debug", is_flag=True, help="Show a full traceback on errors.")
@click.version_option(__version__, prog_name="gittrack")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, debug: bool) -> None:
    """Git-native experiment tracking: runs are commits on refs/gittrack/*."""
    ctx.obj = CliContext(repo=repo or os.environ.get("GITTRACK_REPO"), debug=debug)


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


if __name__ == "__main__":  # `python -m gittrack.cli.main`, as the tests and docs run it
    main()
