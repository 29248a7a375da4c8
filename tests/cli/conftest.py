"""Fixtures of the command tests: runs made with the real API in the `repo` fixture."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.runs import make_run as finished_run

Metrics = Callable[[int], Mapping[str, Any]]


def default_metrics(step: int) -> dict[str, Any]:
    return {"loss": 1.0 / (step + 1), "acc": step / 10}


@pytest.fixture
def make_run(repo: Path, fast_settings: dict[str, object]) -> Callable[..., str]:
    """``make_run(steps=3, metrics=fn, **init_kwargs)``: a finished run; returns its id."""

    def make(*, steps: int = 3, metrics: Metrics = default_metrics, **init_kwargs: Any) -> str:
        rows = [metrics(step) for step in range(steps)]
        return finished_run(rows, settings=fast_settings, **init_kwargs).id

    return make
