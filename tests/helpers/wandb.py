"""The W&B-compatible module's tests: fast settings, and what a repository holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gittrack.wandb as wandb
from tests.helpers.repos import refs_of

FAST_WANDB = {"checkpoint_interval": 0.2, "quiet": True, "console": "off",
              "system_metrics": False}


def start(**init: Any) -> Any:
    """``wandb.init(**init)`` with fast, quiet settings unless given."""
    init.setdefault("settings", FAST_WANDB)
    return wandb.init(**init)


def state_of(repo: Path) -> tuple[dict[str, str], list[str]]:
    """The gittrack refs and every path under ``.git/gittrack``: what recording changes."""
    local = repo / ".git" / "gittrack"
    files = sorted(str(p.relative_to(local)) for p in local.rglob("*")) if local.exists() else []
    return refs_of(repo), files
