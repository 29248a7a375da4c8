"""What `gittrack import SOURCE` prints: each run made, found or skipped, then the counts;
`--json` for machines. A skipped run is named with its reason, the others are imported, and
the exit code is not 0 (as `gittrack import tensorboard`), so a script notices."""

from __future__ import annotations

import click

from gittrack.cli.render import printable
from gittrack.errors import GittrackError
from gittrack.formats.jsonio import json_dumps
from gittrack.importers.batch import Report


def show(report: Report, as_json: bool, what: str) -> None:
    """Print ``report`` of importing ``what`` (a path or URI) as `gittrack import tensorboard`
    does (one JSON object per source run with ``--json``), then the counts; ``GittrackError``
    when a source run was skipped."""
    for outcome in report.outcomes:
        if as_json:
            click.echo(json_dumps(outcome.to_dict()))
        if outcome.run is not None and not as_json:
            verb = "imported" if outcome.run.created else "already imported"
            click.echo(printable(f"{verb} {outcome.source} as run {outcome.run.name} "
                                 f"({outcome.run.run_id})"))
        if outcome.error is not None:
            click.echo(printable(f"cannot import {outcome.source}: {outcome.error}"), err=True)
    if not as_json:
        click.echo(_counts(report))
    if report.skipped:
        count = len(report.skipped)
        raise GittrackError(printable(f"{count} of {len(report.outcomes)} runs of {what} could "
                                      "not be imported (listed above); the others were"))


def _counts(report: Report) -> str:
    def runs(n: int) -> str:
        return f"{n} run{'' if n == 1 else 's'}"

    line = f"{runs(len(report.imported))} imported, {len(report.present)} already present"
    return line + (f", {len(report.skipped)} skipped" if report.skipped else "")
