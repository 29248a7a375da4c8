"""``wandb.keras`` (W&B's older path of ``wandb.integration.keras``)."""

from gittrack.wandb.integration.keras import (
    GittrackMetricsLogger,
    GittrackModelCheckpoint,
    WandbMetricsLogger,
    WandbModelCheckpoint,
)

__all__ = ["GittrackMetricsLogger", "GittrackModelCheckpoint", "WandbMetricsLogger",
           "WandbModelCheckpoint"]
