"""What `gittrack import SOURCE` prints: each run made, found or skipped, then the counts;
`--json` for machines. A skipped run does not fail the command unless nothing was imported."""

from __future__ import annotations

import click

from gittrack.cli.render import dumps
from gittrack.errors import GittrackError
from gittrack.importers.batch import Report


def show(report: Report, as_json: bool, what: str) -> None:
    """Print ``report`` of importing ``what`` (a path or URI); ``GittrackError`` when every
    source run was skipped."""
    if as_json:
        click.echo(dumps({**report.to_dict(), "source": what}))
    else:
        for item in report.imported:
            click.echo(f"imported run {item.name} ({item.run_id})")
        for item in report.present:
            click.echo(f"already imported: run {item.name} ({item.run_id})")
        for skipped in report.skipped:
            click.echo(f"gittrack: skipped {skipped.source}: {skipped.reason}", err=True)
        click.echo(_counts(report))
    if report.skipped and not report.imported and not report.present:
        raise GittrackError(f"no run of {what} could be imported (reasons above)")


def _counts(report: Report) -> str:
    def runs(n: int) -> str:
        return f"{n} run{'' if n == 1 else 's'}"

    line = f"{runs(len(report.imported))} imported, {len(report.present)} already present"
    return line + (f", {len(report.skipped)} skipped" if report.skipped else "")
