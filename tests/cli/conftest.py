"""Fixtures of the command tests: runs made with the real API in the `repo` fixture."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gittrack.runs.run_storage import RunStorage
from gittrack.storage.entry import ManifestEntry
from tests.helpers.forge_runs import forge_media_run
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


def _stored(repo: Path, path: str, data: bytes) -> ManifestEntry:
    return RunStorage(pygit2.Repository(str(repo))).keep_bytes(data, path)


@pytest.fixture
def media_run(repo: Path) -> str:
    """Run ``pictures`` (forged: one commit), whose media index lists three images under
    ``examples`` (one at step 0, a list of two at step 5) and a text at step 3 under
    ``notes``, their bytes in the store."""
    items = [
        (_stored(repo, "media/examples/0_1_0.png", b"a" * 10),
         {"key": "examples", "step": 0, "type": "image", "item": 0, "width": 2, "height": 2,
          "format": "png"}),
        (_stored(repo, "media/notes/3_2_0.txt", b"hello"),
         {"key": "notes", "step": 3, "type": "text", "item": 0, "format": "txt"}),
        (_stored(repo, "media/examples/5_3_0.png", b"b" * 20),
         {"key": "examples", "step": 5, "type": "image", "item": 0, "width": 2, "height": 2,
          "format": "png", "meta": {"_items": 2}}),
        (_stored(repo, "media/examples/5_3_1.png", b"c" * 30),
         {"key": "examples", "step": 5, "type": "image", "item": 1, "width": 2, "height": 2,
          "format": "png", "meta": {"_items": 2}}),
    ]
    forge_media_run(repo, "pictures", items)
    return "pictures"
