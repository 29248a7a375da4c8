"""Importers: runs recorded by other tools (TensorBoard, W&B, MLflow) made into gittrack runs.

``gittrack.importers.common`` makes the runs (once per source run); one module per source
reads it (``gittrack.importers.tensorboard``). The command line is ``gittrack import``
(``gittrack.cli.import_cmd``)."""
