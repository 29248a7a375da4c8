"""`gittrack import wandb PATH`: W&B run folders (online or offline) as gittrack runs."""

from __future__ import annotations

import click

from gittrack.cli.context import CliContext


@click.command("wandb")
@click.argument("path", type=click.Path())
@click.option("--project", default=None, help="Put the runs in this project (default: each "
                                              "run's W&B project).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source run.")
@click.pass_obj
def command(obj: CliContext, path: str, project: str | None, as_json: bool) -> None:
    """Import W&B runs (online or offline run folders) as gittrack runs.

    PATH is a run folder (wandb/run-*, wandb/offline-run-*), a wandb/ folder holding several,
    or the folder holding wandb/.

    History, config and summary are W&B's; logged images, histograms, tables, HTML, video
    and audio come along. A run
    imported before is found, not made again (docs/importers.md). Needs the wandb package
    (pip install 'gittrack[wandb]')."""
    from gittrack.cli.import_report import show
    from gittrack.importers.batch import import_all
    from gittrack.importers.wandb import sources

    found = sources(path)
    show(import_all(obj.git(), found, project=project), as_json, path)
