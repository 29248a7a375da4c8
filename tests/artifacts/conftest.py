"""Artifact storage on the real backends (the ``location`` fixture of ``tests/conftest.py``),
public and private, and repositories set up to use them. Fixtures only
(``tests/helpers/storage.py`` does the work)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pygit2
import pytest

from gittrack.artifacts.storage import ArtifactStorage
from gittrack.crypto.age import generate_identity
from gittrack.crypto.keys import Keyring, ProjectKeys, init_user_identity
from tests.helpers.storage import Location, MakeStorage, new_storage


@pytest.fixture
def project_keys() -> ProjectKeys:
    return ProjectKeys.from_secrets([generate_identity()[0]])


@pytest.fixture
def make_storage(tmp_path: Path) -> MakeStorage:
    """``make_storage(location, keys=None, workers=4)``: storage with its own caches."""

    def make(where: Location, keys: ProjectKeys | None = None, workers: int = 4,
             state: Path | None = None) -> ArtifactStorage:
        return new_storage(where, state or tmp_path / f"state-{uuid.uuid4().hex[:8]}", keys,
                           workers)

    return make


@pytest.fixture(params=["public", "private"])
def privacy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def git_repo(repo: Path) -> pygit2.Repository:
    return pygit2.Repository(str(repo))


@pytest.fixture
def private_repo(git_repo: pygit2.Repository) -> pygit2.Repository:
    """The ``repo`` fixture with a keyring whose only member is the test's user (whose
    identity file lives in the temporary HOME)."""
    public, _, _ = init_user_identity()
    Keyring.for_repo(git_repo).init("me", public)
    return git_repo
