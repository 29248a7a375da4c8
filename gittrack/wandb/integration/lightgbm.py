"""``wandb.integration.lightgbm``: ``wandb_callback`` and ``log_summary`` are gittrack's
LightGBM integration (docs/integrations/lightgbm.md)."""

from gittrack.integrations.lightgbm import gittrack_callback, log_summary, wandb_callback

__all__ = ["gittrack_callback", "log_summary", "wandb_callback"]
