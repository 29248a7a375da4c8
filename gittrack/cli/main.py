"""The ``gittrack`` command: a click group, and the one place errors become exit codes.

Commands are imported only when run (``LazyGroup``): ``COMMANDS`` names each one's module and
its short help for ``gittrack --help``; a test checks them against the commands themselves.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import sys
import warnings
from typing import Any, NoReturn, TextIO

import click

from gittrack._version import __version__
from gittrack.cli.context import CliContext
from gittrack.cli.lazy import LazyGroup
from gittrack.cli.render import printable
from gittrack.errors import FormatError, GittrackError, GittrackWarning, OutputError, UsageError

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in gittrack, and only that
IO_ERROR_EXIT = OutputError.exit_code  # 74, EX_IOERR: the system refused a file (full, read-only)

# name -> ("module:attribute", short help as `gittrack --help` shows it, before any cut)
COMMANDS: dict[str, tuple[str, str]] = {
    "artifact": ("gittrack.cli.artifact_cmd:command",
                 "Versioned datasets and models: list, show, download, alias."),
    "compare": ("gittrack.cli.compare_cmd:command",
                "Compare two or more runs (id, id prefix or name), the first as baseline."),
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
    "import": ("gittrack.cli.import_cmd:command",
               "Make gittrack runs from runs another tool recorded (TensorBoard, W&B, MLflow)."),
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
    "report": ("gittrack.cli.report_cmd:command",
               "Report the runs made on the head's commits against the base's, for a pull "
               "request."),
    "rm": ("gittrack.cli.rm_cmd:command",
           "Delete runs: refs, reflog entries and the objects only they reached."),
    "runs": ("gittrack.cli.runs_cmd:command", "List runs, newest first."),
    "show": ("gittrack.cli.show_cmd:command",
             "Show RUN (an id, a unique id prefix, or a name): metadata, config and summary."),
    "storage": ("gittrack.cli.storage_cmd:command",
                "Configure the blob store of artifacts (any fsspec URL or a local folder)."),
    "textconv": ("gittrack.cli.textconv_cmd:command",
                 "Print FILE as text for git's diff (a Parquet file as its columns and rows)."),
    "ui": ("gittrack.cli.ui_cmd:command",
           "Open a local web page of the runs: table, charts, comparisons (read-only)."),
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
    """Entry point: one line on stderr and a stable exit code for every error (``--debug``
    shows the traceback instead). The codes are listed in ``gittrack.errors``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("GITTRACK_DEBUG"))
    with warnings.catch_warnings():
        # gittrack's own warnings (a run skipped, ...) as one line each, never as errors
        warnings.simplefilter("always", GittrackWarning)
        warnings.showwarning = _show_warning
        try:
            _check_text(args)
            return cli.main(args=args, prog_name="gittrack", standalone_mode=False)
        except BaseException as exc:
            code = _report(exc, debug)
            if code is None:
                raise
            sys.exit(code)


def console_main() -> NoReturn:
    """The ``gittrack`` console script and ``python -m gittrack``: ``main()``, then leave
    without tearing the interpreter down. pyarrow's native threads can abort the process in
    the teardown after a command that succeeded (exit 134, apache/arrow#34314); Python's own
    exit handlers still run, and the output is flushed, first."""
    for stream in (sys.stdout, sys.stderr):
        # A local path that is not UTF-8 (a surrogate-escaped str) goes out as its own bytes,
        # as `ls` and git print it, not as a UnicodeEncodeError on a UTF-8 terminal.
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: `gittrack runs | head`
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # what Python does with sys.exit("message")
    return 1


def _report(exc: BaseException, debug: bool) -> int | None:
    """Print ``exc`` in one line and give the exit code; ``None`` to let it propagate."""
    if isinstance(exc, (click.exceptions.Exit, SystemExit, KeyboardInterrupt)):
        return _passthrough(exc)
    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):  # `gittrack runs | head`
        sys.stderr.close()
        return 0
    if debug and not isinstance(exc, click.exceptions.Abort):
        return None
    message, code = _describe(exc)
    click.echo(f"gittrack: {printable(message)}", err=True)  # it may quote stored data
    return code


def _passthrough(exc: BaseException) -> int | None:
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        click.echo("gittrack: interrupted", err=True)
        return 130
    return None  # SystemExit: a command chose its code


def _describe(exc: BaseException) -> tuple[str, int]:
    """``(message, exit code)``: the error's own for gittrack errors, one line naming the file
    for the disk, and a request for a bug report only for what must be a bug."""
    if isinstance(exc, GittrackError):
        return f"error: {exc}", exc.exit_code
    if isinstance(exc, click.exceptions.Abort):
        return "aborted", 130
    if isinstance(exc, OSError):
        return f"error: {_os_error(exc)}", IO_ERROR_EXIT
    if isinstance(exc, RecursionError):
        return ("error: the data is nested too deeply to process (a malformed file or "
                "argument)", FormatError.exit_code)
    if isinstance(exc, MemoryError):
        return ("error: out of memory (the data is too large for this machine, or "
                "malformed)", FormatError.exit_code)
    return (f"internal error: {type(exc).__name__}: {exc} — this is a bug, please report it "
            "with the output of the same command run with --debug", INTERNAL_ERROR_EXIT)


# errnos that say the disk refused a write (rather than that a file cannot be reached)
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS", "EFBIG") if hasattr(errno, name)
)


def _os_error(exc: OSError) -> str:
    """``cannot write FILE: No space left on device``: the file and the reason, no traceback."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    what = os.fsdecode(exc.filename) if isinstance(exc.filename, bytes) else str(exc.filename)
    if exc.filename2 is not None:
        what += f" or {exc.filename2}"
    verb = "write" if exc.errno in _WRITE_ERRNOS else "access"
    return f"cannot {verb} {what}: {reason}"


def _check_text(args: list[str]) -> None:
    """Refuse an argument that is not UTF-8 (Python hands its bytes over as lone surrogates):
    names, keys, values and paths are stored and compared as UTF-8 text."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"argument {_shown(arg)} is not UTF-8 text: gittrack reads names, "
                             "keys, values and paths as UTF-8") from None
    repo = os.environ.get("GITTRACK_REPO", "")
    try:
        repo.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"GITTRACK_REPO={_shown(repo)} is not UTF-8 text") from None


def _shown(arg: str) -> str:
    """The argument's bytes as given, escaped: ``'caf\\xe9'``."""
    try:
        return repr(arg.encode("utf-8", "surrogateescape"))[1:]
    except UnicodeEncodeError:  # a surrogate that came from no byte (passed in-process)
        return ascii(arg)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    text = str(message).removeprefix("gittrack: ")
    if issubclass(category, GittrackWarning):
        click.echo(f"gittrack: warning: {printable(text)}", err=True)
    else:
        click.echo(warnings.formatwarning(message, category, filename, lineno, line),
                   err=True, nl=False)


if __name__ == "__main__":  # `python -m gittrack.cli.main`, as the tests and docs run it
    console_main()
