"""What `gittrack import SOURCE` prints: each run made, found or skipped, then the counts;
`--json` for machines. A skipped run is named with its reason, the others are imported, and
the exit code is not 0 (as `gittrack import tensorboard`), so a script notices."""

from __future__ import annotations

import click

from gittrack.cli.render import dumps, printable
from gittrack.errors import GittrackError
from gittrack.importers.batch import Report


def show(report: Report, as_json: bool, what: str) -> None:
    """Print ``report`` of importing ``what`` (a path or URI); ``GittrackError`` when a source
    run was skipped."""
    if as_json:
        click.echo(dumps({**report.to_dict(), "source": what}))
    else:
        for item in report.imported:
            click.echo(printable(f"imported run {item.name} ({item.run_id})"))
        for item in report.present:
            click.echo(printable(f"already imported: run {item.name} ({item.run_id})"))
        for skipped in report.skipped:
            click.echo(printable(f"cannot import {skipped.source}: {skipped.reason}"), err=True)
        click.echo(_counts(report))
    if report.skipped:
        count = len(report.skipped)
        total = count + len(report.imported) + len(report.present)
        raise GittrackError(printable(f"{count} of {total} runs of {what} could not be imported "
                                      "(listed above); the others were"))


def _counts(report: Report) -> str:
    def runs(n: int) -> str:
        return f"{n} run{'' if n == 1 else 's'}"

    line = f"{runs(len(report.imported))} imported, {len(report.present)} already present"
    return line + (f", {len(report.skipped)} skipped" if report.skipped else "")
