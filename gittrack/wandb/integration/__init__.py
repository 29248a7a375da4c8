"""``wandb.integration.<framework>`` for scripts moving from W&B: each module names the
gittrack integration under W&B's names (``from gittrack.wandb.integration.xgboost import
WandbCallback``)."""
