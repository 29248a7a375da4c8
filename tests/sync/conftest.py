"""Fixtures of the sync stories (what they do lives in ``tests/helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.repos import MakeClone
from tests.helpers.runs import log_run
from tests.helpers.storage import share_storage


@pytest.fixture
def team_clone(bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
               fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clone ``a`` of ``bare_remote``, sharing the folder store ``tmp_path / "store"``, with one
    run that logged artifact ``data`` (alias ``best``); the current directory."""
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "store"))
    log_run(a, fast_settings)
    monkeypatch.chdir(a)
    return a
