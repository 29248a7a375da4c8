"""`gittrack push`: a dry run writes nothing; the rewrite advice is in the report (--json)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from gittrack.sync.remove_version import remove_version
from tests.helpers.cli import CliResult
from tests.helpers.processes import run_python
from tests.helpers.repos import ServeRemote, add_bare_remote, git, mirror_fetch, push_all
from tests.helpers.runs import log_versions, marked_run

Cli = Callable[..., CliResult]
DIES = """
import os, gittrack
run = gittrack.init(name='dead', settings={'quiet': True, 'checkpoint_interval': 3600})
for i in range(3):
    run.log({'x': i})
os._exit(0)
"""


def _state(repo: Path) -> tuple[str, str, list[tuple[str, int]]]:
    """Every ref, every object, every file under .git/gittrack (with its size) but the
    checkpoint cache: a read cache every reader refreshes (`gittrack runs` too), which a
    run named by its name fills (``runs.index``)."""
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch-check"],
                             cwd=repo, capture_output=True, text=True, check=True).stdout
    folder = repo / ".git" / "gittrack"
    files = sorted((str(p.relative_to(folder)), p.stat().st_size if p.is_file() else -1)
                   for p in folder.rglob("*") if p.relative_to(folder).parts[0] != "cache")
    return git(repo, "for-each-ref"), objects, files


@pytest.mark.parametrize("runs", [(), ("origin", "fresh")], ids=["everything", "by-name"])
def test_a_dry_run_writes_no_ref_object_or_file(repo: Path, cli: Cli,
                                                runs: tuple[str, ...]) -> None:
    bare = add_bare_remote(repo)
    pushed = marked_run()
    assert cli("push").exit_code == 0
    new = marked_run(name="fresh")
    # A push would learn the mirror ref of `pushed` again, and record the mirror's URL.
    git(repo, "update-ref", "-d", f"refs/gittrack-remotes/origin/runs/{pushed}")
    (repo / ".git" / "gittrack" / "mirrors" / "origin.url").unlink()
    run_python(DIES, cwd=repo)  # a dead run (new too): any other command folds its log
    assert any((repo / ".git" / "gittrack" / "wal").iterdir())
    before, remote_before = _state(repo), git(bare, "for-each-ref")

    result = cli("push", "--dry-run", *runs)

    assert result.exit_code == 0, result.stderr
    assert f"(dry run) sent {'1 run' if runs else '2 runs'}" in result.stdout
    assert _state(repo) == before
    assert git(bare, "for-each-ref") == remote_before
    # What the dry run did not do, a push does: the scenario would have written.
    assert cli("push").exit_code == 0
    assert f"refs/gittrack-remotes/origin/runs/{pushed}" in git(repo, "for-each-ref")
    assert f"refs/gittrack/runs/{new}" in git(bare, "for-each-ref")
    assert not any((repo / ".git" / "gittrack" / "wal").iterdir())  # recovered
    assert (repo / ".git" / "gittrack" / "mirrors" / "origin.url").exists()


def test_push_and_fetch_json_carry_the_rewrite_advice(repo: Path, cli: Cli) -> None:
    add_bare_remote(repo)
    log_versions(repo, 3)
    push_all(repo)
    mirror_fetch(repo)  # the remote's chain stays here: the advice compares both
    remove_version(pygit2.Repository(str(repo)), "model", 1)

    result = cli("push", "--json")
    text = cli("push")

    assert result.exit_code == 5  # the artifact diverged: held
    report = json.loads(result.stdout)
    assert [s["ref"] for s in report["held"]] == ["refs/gittrack/artifacts/model"]
    advice = ("  model: v1 removed here, still on origin: `gittrack artifact rm model:v1 "
              "--remote origin` removes it there too")
    assert report["advice"] == [advice]
    assert text.stdout.splitlines()[-1] == advice
    fetched = cli("fetch", "--json")
    assert json.loads(fetched.stdout)["advice"] == [advice]  # pull and fetch carry it too


def test_push_to_a_remote_not_enabled_for_gittrack_is_refused(
        serve_remote: ServeRemote, make_clone: Callable[[str, str], Path],
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Cli) -> None:
    """Private by default: `gittrack push fork` (dry run too) refuses in one line naming the
    command that enables the remote; after it, the runs go. Over the file transport and over
    ``git daemon``."""
    from tests.helpers.repos import refs_of
    from tests.helpers.runs import log_run

    (origin, origin_url), (fork, fork_url) = serve_remote(), serve_remote()
    a = make_clone("a", origin_url)
    git(a, "remote", "add", "fork", fork_url)
    monkeypatch.chdir(a)
    run = log_run(a, fast_settings, data=None)
    for args in (("push", "fork"), ("push", "--dry-run", "fork"), ("push", "fork", run)):
        refused = cli(*args)
        assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "runs are not pushed to fork: it is not enabled for gittrack " \
               "(`gittrack remote setup fork`)" in refused.stderr
    assert refs_of(fork) == {}
    assert cli("push").exit_code == 0  # origin, the first remote: enabled by default
    assert f"refs/gittrack/runs/{run}" in refs_of(origin)
    assert cli("remote", "setup", "fork").exit_code == 0
    pushed = cli("push", "fork")
    assert pushed.exit_code == 0, pushed.stderr
    assert f"refs/gittrack/runs/{run}" in refs_of(fork)
