"""`gittrack gc`: dry run first, then removal; grace periods on the command line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import CliResult
from tests.helpers.runs import marked_run
from tests.helpers.storage import store_names

Cli = Callable[..., CliResult]


def test_gc_dry_run_then_for_real(repo: Path, cli: Cli) -> None:
    (repo / "a.bin").write_bytes(b"gone soon")
    marked_run(artifact=("a", repo / "a.bin"))
    digest = hashlib.sha256(b"gone soon").hexdigest()
    assert cli("artifact", "rm", "a", "--yes").exit_code == 0
    young = cli("gc", "--dry-run")
    assert young.exit_code == 0 and "would remove 0 blob(s)" in young.stdout
    dry = cli("gc", "--dry-run", "--grace", "0")
    assert digest in dry.stdout and "would remove 1 blob(s), 9 B" in dry.stdout
    assert digest in store_names(repo)
    done = json.loads(cli("gc", "--grace", "0", "--json").stdout)
    assert done["removed"] == [digest] and done["marked_from"] == ["local"]
    assert store_names(repo) == set()


def test_gc_refuses_a_bad_duration(repo: Path, cli: Cli) -> None:
    result = cli("gc", "--grace", "soon")
    assert result.exit_code == 2 and "duration" in result.stderr
