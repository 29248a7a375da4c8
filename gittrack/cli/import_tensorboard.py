"""`gittrack import tensorboard LOGDIR`: each folder of event files becomes a run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import printable
from gittrack.errors import GittrackError


@click.command("tensorboard")
@click.argument("logdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--project", default=None, help="The project of the runs (default: the "
              "repository's folder name, as for gittrack.init()).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run folder.")
@click.pass_obj
def command(obj: CliContext, logdir: Path, project: str | None, as_json: bool) -> None:
    """Import each run folder of TensorBoard event files under LOGDIR.

    A folder holding events.out.tfevents.* files becomes one finished run named after its path
    under LOGDIR: scalars, histograms, images and text at their steps, with their wall times.
    Importing again finds the runs made before (no duplicates). A folder that cannot be read
    is named with the reason, the others are imported, and the exit code is not 0.
    """
    from gittrack.importers.tensorboard import import_logdir

    repo = obj.git()
    report = import_logdir(repo, logdir, project)
    for folder, done in report.imported:
        if as_json:
            click.echo(json.dumps({"folder": str(folder), "run_id": done.run_id,
                                   "name": done.name, "created": done.created}))
        else:
            verb = "imported" if done.created else "already imported"
            click.echo(printable(f"{verb} {folder} as run {done.name} ({done.run_id})"))
    for tag, why in sorted(report.skipped_tags.items()):
        click.echo(printable(f"skipped tag {tag!r}: {why}"), err=True)
    for bad in report.failed:
        if as_json:
            click.echo(json.dumps({"folder": str(bad.folder), "error": bad.reason}))
        click.echo(printable(f"cannot import {bad.folder}: {bad.reason}"), err=True)
    if report.failed:
        count = len(report.failed)
        raise GittrackError(f"{count} of {count + len(report.imported)} run folders could not "
                            "be imported (listed above); the others were")
