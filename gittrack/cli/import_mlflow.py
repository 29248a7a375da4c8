"""`gittrack import mlflow URI`: runs of an MLflow store as gittrack runs."""

from __future__ import annotations

import click

from gittrack.cli.context import CliContext


@click.command("mlflow")
@click.argument("uri")
@click.option("--experiment", default=None, help="Import only this experiment's runs.")
@click.option("--project", default=None, help="Put the runs in this project (default: each "
                                              "run's experiment name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source run.")
@click.pass_obj
def command(obj: CliContext, uri: str, experiment: str | None, project: str | None,
            as_json: bool) -> None:
    """Import the runs of an MLflow tracking store as gittrack runs.

    URI is a file store (./mlruns, file:...) or a SQLite store (sqlite:///mlflow.db).

    Each experiment is a project; params are the config (MLflow's strings), metric histories
    the history, latest metrics the summary. A run imported before is found, not made again
    (docs/importers.md). Needs the mlflow package (pip install 'gittrack[mlflow]')."""
    from gittrack.cli.import_report import show
    from gittrack.importers.batch import import_all
    from gittrack.importers.mlflow import sources

    found = sources(uri, experiment)
    show(import_all(obj.git(), found, project=project), as_json, uri)
