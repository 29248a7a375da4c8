"""`gittrack import SOURCE ...`: make gittrack runs from runs another tool recorded.

The group knows each source by a table, as the top-level group knows commands
(``gittrack.cli.lazy``): a source's command module is imported only when it is run, so a
missing extra of one source never breaks another. Add a source with a line in ``SOURCES``.
"""

from __future__ import annotations

import click

from gittrack.cli.lazy import LazyGroup

# name -> ("module:attribute", short help as `gittrack import --help` shows it)
SOURCES: dict[str, tuple[str, str]] = {
    "mlflow": ("gittrack.cli.import_mlflow:command",
               "Import the runs of an MLflow tracking store as gittrack runs."),
    "tensorboard": ("gittrack.cli.import_tensorboard:command",
                    "Import each run folder of TensorBoard event files under LOGDIR."),
    "wandb": ("gittrack.cli.import_wandb:command",
              "Import W&B runs (online or offline run folders) as gittrack runs."),
}


@click.group("import", cls=LazyGroup, lazy=SOURCES)
def command() -> None:
    """Make gittrack runs from runs another tool recorded (TensorBoard, W&B, MLflow).

    Each source run becomes one finished gittrack run with its history, config and summary;
    importing the same source again makes no second run (docs/importers.md).
    """
