"""Fixtures of the W&B-compatible module's tests: no run, disabled or not, outlives a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gittrack.api import session
from gittrack.wandb import _session


@pytest.fixture(autouse=True)
def no_wandb_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("WANDB_MODE", "WANDB_DISABLED", "GITTRACK_MODE", "WANDB_PROJECT",
                "WANDB_ENTITY", "WANDB_NAME", "WANDB_NOTES", "WANDB_TAGS", "WANDB_RUN_GROUP",
                "WANDB_JOB_TYPE", "WANDB_RUN_ID", "WANDB_DIR", "WANDB_RESUME"):
        monkeypatch.delenv(var, raising=False)
    yield
    _session._disabled = None
    session._disabled = None
