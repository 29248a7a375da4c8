"""``wandb.integration.xgboost``: ``WandbCallback`` is gittrack's XGBoost callback
(docs/integrations/xgboost.md)."""

from gittrack.integrations.xgboost import GittrackCallback, WandbCallback

__all__ = ["GittrackCallback", "WandbCallback"]
