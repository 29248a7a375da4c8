"""Asking before destroying: without a terminal, a command that deletes runs refuses unless
given ``--yes``, and deletes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import Cli
from tests.helpers.repos import git
from tests.helpers.runs import marked_run


@pytest.mark.parametrize("command", ["rm", "purge"])
def test_deleting_a_run_without_a_terminal_needs_yes(command: str, repo: Path,
                                                     cli: Cli) -> None:
    run_id = marked_run()
    result = cli(command, run_id)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert run_id in git(repo, "for-each-ref")
