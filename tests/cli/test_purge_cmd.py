"""`gittrack purge`: confirmation, and what it says it did."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import CliResult
from tests.helpers.repos import add_bare_remote, git, push_all
from tests.helpers.runs import marked_run
from tests.helpers.storage import store_names

Cli = Callable[..., CliResult]


def test_purge_uses_the_default_remote(repo: Path, cli: Cli) -> None:
    bare = add_bare_remote(repo)
    (repo / "w.bin").write_bytes(b"private weights")
    run_id = marked_run(artifact=("model", repo / "w.bin"))
    push_all(repo)
    result = cli("purge", run_id, "--yes")
    assert result.exit_code == 0, result.stderr
    assert "removed 1 blob(s)" in result.stdout
    assert git(bare, "for-each-ref", "refs/gittrack/") == ""
    assert "gittrack" not in git(repo, "for-each-ref")
    assert hashlib.sha256(b"private weights").hexdigest() not in store_names(repo)
