"""`gittrack recover` commits the media of a run killed right after its log() returned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.processes import killed_run

Cli = Callable[..., CliResult]


def test_recover_commits_media_of_a_killed_run(repo: Path, cli: Cli) -> None:
    run_id = killed_run(
        repo, init="name='pictures', ", steps=4,
        row="{'img': gittrack.Image(__import__('numpy').full((5, 7, 3), i * 50, 'uint8'),"
            " caption=str(i)), 'notes': [gittrack.Text('a'), gittrack.Text('b')]}")
    result = cli("recover")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"recovered run pictures ({run_id}): crashed, 4 steps\n"
    view = gittrack.Api(".").run(run_id)
    got = list(view.media("img"))
    assert [(s, x.caption) for s, x in got] == [(i, str(i)) for i in range(4)]
    for i, (_, image) in enumerate(got):
        np.testing.assert_array_equal(image.numpy(), np.full((5, 7, 3), i * 50, np.uint8))
    assert [[t.data for t in texts] for _, texts in view.media("notes")] == [["a", "b"]] * 4
