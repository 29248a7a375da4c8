"""Fixtures of the web UI tests: a client of the real app over a repository of real runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gittrack.ui.app import create_app


@pytest.fixture
def client(repo: Path) -> Iterator[TestClient]:
    """A client of the app over ``repo``, as ``gittrack ui`` serves it on loopback."""
    with TestClient(create_app(str(repo)), base_url="http://127.0.0.1") as test_client:
        yield test_client
