"""Issue 13's review commands in a teammate's clone: Alice logs runs on `main` and on a
feature branch and pushes; Bob clones, pulls and reviews (`runs --branch/--commit`, `compare
--branch`, `diff`, `git log -p` through the diff driver). Over the file transport and over
``git daemon``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repos import RUNS, MakeClone, git
from tests.helpers.runs import start_run


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return str(result.stdout)


def logged(clone: Path, name: str, loss: float, settings: dict[str, object]) -> str:
    run = start_run(repo=str(clone), name=name, config={"lr": loss / 10}, settings=settings)
    run.define_metric("loss", goal="minimize")
    run.log({"loss": loss * 2})
    run.log({"loss": loss})
    run.finish()
    return run.id


def test_bob_reviews_alices_branch_after_a_pull(
        served_remote: tuple[Path, str], make_clone: MakeClone, cli: Any,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object]) -> None:
    _, url = served_remote
    alice = make_clone("alice", url)
    monkeypatch.chdir(alice)
    base = logged(alice, "base", 0.5, fast_settings)
    git(alice, "switch", "-q", "-c", "feat")
    git(alice, "commit", "-q", "--allow-empty", "-m", "l2 regularisation")
    feat = git(alice, "rev-parse", "HEAD").strip()
    better = logged(alice, "better", 0.3, fast_settings)
    worse = logged(alice, "worse", 0.9, fast_settings)
    git(alice, "push", "-q", "origin", "main", "feat")
    ok(cli("push"))

    bob = make_clone("bob", url)
    monkeypatch.chdir(bob)
    ok(cli("pull"))
    listed = json.loads(ok(cli("runs", "--branch", "feat", "--commit", feat[:7],
                               "--sort", "summary.loss", "--format", "json")))
    assert [r["id"] for r in listed] == [better, worse]
    assert {(r["commit"], r["branch"]) for r in listed} == {(feat, "feat")}
    rows = list(csv.DictReader(io.StringIO(ok(cli("runs", "--commit", "main..origin/feat",
                                                  "--format", "csv")))))
    assert {r["id"] for r in rows} == {better, worse} and rows[0]["branch"] == "feat"

    compared = ok(cli("compare", "--branch", "main", "--branch", "feat"))
    assert "base" in compared and "better" in compared and "worse" not in compared
    diff = ok(cli("diff", "main", "feat"))  # each branch's best run by the recorded goal
    assert diff.startswith(f"A  base ({base})") and f"commit {feat[:12]}  branch feat" in diff

    ok(cli("hooks", "install"))
    log = git(bob, "log", "-p", f"{RUNS}{better}")
    assert "Binary files" not in log and "loss=0.3" in log and "lr: 0.03" in log
