"""Fixtures of the run tests."""

from __future__ import annotations

from collections.abc import Iterator

import pygit2
import pytest

from gittrack.git import repo


@pytest.fixture
def no_fsync() -> Iterator[None]:
    """Objects and refs written without fsync, for tests of thousands of checkpoints (what
    is written is the same; durability is tested elsewhere)."""
    option = pygit2.enums.Option.ENABLE_FSYNC_GITDIR
    repo.enable_fsync()  # what a run does as it starts: not again after this
    pygit2.option(option, 0)
    try:
        yield
    finally:
        pygit2.option(option, 1)
