"""``wandb.integration.keras``: ``WandbMetricsLogger`` and ``WandbModelCheckpoint`` are
gittrack's Keras callbacks (docs/integrations/keras.md)."""

from gittrack.integrations.keras import GittrackMetricsLogger, GittrackModelCheckpoint

WandbMetricsLogger = GittrackMetricsLogger
WandbModelCheckpoint = GittrackModelCheckpoint

__all__ = ["GittrackMetricsLogger", "GittrackModelCheckpoint", "WandbMetricsLogger",
           "WandbModelCheckpoint"]
