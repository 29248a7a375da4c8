"""Runs keep their code commit reachable (``runs/coderefs.py``): a rebase or an amend, a force
push and a ``git gc --prune=now`` on the server leave a teammate's clone able to show and diff
the run's code; deleting the run and ``gittrack gc`` drop the ref, here and on the remote.
Every test runs over the file transport and over ``git daemon`` (``served_remote``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gittrack.git import namespace
from tests.helpers.cli import CliResult
from tests.helpers.repos import MakeClone, git, has_object, refs_of
from tests.helpers.runs import log_run


def ok(result: CliResult) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


def code_refs(path: Path) -> dict[str, str]:
    return refs_of(path, namespace.CODE)


def server_gc(server: Path) -> None:
    git(server, "reflog", "expire", "--expire=now", "--all")
    git(server, "gc", "-q", "--prune=now")


def test_a_run_starts_with_a_ref_on_its_code_commit(served_remote: tuple[Path, str],
                                                     make_clone: MakeClone,
                                                     fast_settings: dict[str, object]) -> None:
    a = make_clone("a", served_remote[1])
    head = git(a, "rev-parse", "HEAD").strip()
    log_run(a, fast_settings, data=None)
    log_run(a, fast_settings, data=None)  # a second run on the same commit: the same ref
    assert code_refs(a) == {namespace.CODE + head: head}


def test_rewritten_history_and_server_gc_leave_the_code_of_runs(
        served_remote: tuple[Path, str], make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    server, origin = served_remote
    a = make_clone("a", origin)
    monkeypatch.chdir(a)
    (a / "train.py").write_text("print('lr=0.1')\n")
    git(a, "commit", "-q", "-am", "try lr 0.1")
    first = git(a, "rev-parse", "HEAD").strip()
    old_run = log_run(a, fast_settings, data=None)
    git(a, "push", "-q", "origin", "main")
    assert "1 code commit" in ok(cli("push"))

    # Alice rewrites the commit the run was made on and force-pushes; the server collects
    (a / "train.py").write_text("print('lr=0.2')\n")
    git(a, "commit", "-q", "--amend", "-am", "try lr 0.2")
    second = git(a, "rev-parse", "HEAD").strip()
    new_run = log_run(a, fast_settings, data=None)
    git(a, "push", "-q", "-f", "origin", "main")
    ok(cli("push"))
    server_gc(server)
    assert has_object(server, first)  # kept by refs/gittrack/code/<first>

    b = make_clone("b", origin)
    monkeypatch.chdir(b)
    ok(cli("pull"))
    assert code_refs(b) == {namespace.CODE + first: first, namespace.CODE + second: second}
    assert first not in git(b, "log", "--format=%H", "main")  # only the code ref has it
    shown = json.loads(ok(cli("show", old_run, "--json")))
    assert shown["metadata"]["code"]["commit"] == first
    diffed = json.loads(ok(cli("diff", old_run, new_run, "--json")))
    assert diffed["code"]["status"] == "compared", diffed["code"]
    assert "unknown" not in ok(cli("diff", old_run, new_run))

    # Alice deletes the old run everywhere; gc drops its code ref here and on the server
    monkeypatch.chdir(a)
    ok(cli("rm", "--yes", "--remote", "origin", old_run))
    out = ok(cli("gc"))
    assert "code refs: removed 1" in out and "1 on origin" in out, out
    assert code_refs(a) == {namespace.CODE + second: second}
    assert refs_of(server, namespace.CODE) == {namespace.CODE + second: second}
    server_gc(server)
    assert not has_object(server, first)
    # Bob's pull keeps his copy while his run needs it; his gc then drops it too
    monkeypatch.chdir(b)
    ok(cli("pull"))
    ok(cli("gc"))
    assert code_refs(b) == {namespace.CODE + second: second}
    assert "code commit" not in ok(cli("push"))  # nothing sent back


def test_gc_adds_the_ref_a_run_made_before_lacks(served_remote: tuple[Path, str],
                                                   make_clone: MakeClone,
                                                   fast_settings: dict[str, object],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   cli: Any) -> None:
    a = make_clone("a", served_remote[1])
    monkeypatch.chdir(a)
    head = git(a, "rev-parse", "HEAD").strip()
    log_run(a, fast_settings, data=None)
    git(a, "update-ref", "-d", namespace.CODE + head)  # as a run made before code refs
    assert "would add 1 missing" in ok(cli("gc", "--dry-run"))
    assert code_refs(a) == {}
    ok(cli("gc"))
    assert code_refs(a) == {namespace.CODE + head: head}


def test_a_code_ref_a_teammate_collected_is_sent_again_by_a_clone_whose_run_needs_it(
        served_remote: tuple[Path, str], make_clone: MakeClone, fast_settings: dict[str, object],
        monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    bare_remote, url = served_remote
    a = make_clone("a", url)
    monkeypatch.chdir(a)
    head = git(a, "rev-parse", "HEAD").strip()
    log_run(a, fast_settings, data=None)
    ok(cli("push"))
    b = make_clone("b", url)
    monkeypatch.chdir(b)
    ok(cli("pull"))
    mine = log_run(b, fast_settings, data=None)  # Bob's run on the same commit, not pushed
    monkeypatch.chdir(a)
    for run in list(refs_of(a, namespace.RUNS)):
        ok(cli("rm", "--yes", "--remote", "origin", run.removeprefix(namespace.RUNS)))
    ok(cli("gc"))
    assert code_refs(bare_remote) == {}
    monkeypatch.chdir(b)
    pulled = ok(cli("pull"))
    assert code_refs(b) == {namespace.CODE + head: head}, pulled  # his run needs it
    assert "sent 1 run, 1 code commit" in ok(cli("push", "origin", mine))
    assert code_refs(bare_remote) == {namespace.CODE + head: head}


def test_code_commits_of_some_runs_keep_the_cache_of_the_others(
        served_remote: tuple[Path, str], make_clone: MakeClone,
        fast_settings: dict[str, object]) -> None:
    """The hook's ``code`` mode asks for the runs to send only; the run cache must still hold
    every run (asked for some heads, ``index.cached_runs`` forgets the rest)."""
    import sqlite3

    import pygit2

    from gittrack.runs import coderefs, index, store

    a = make_clone("a", served_remote[1])
    head = git(a, "rev-parse", "HEAD").strip()
    runs = [log_run(a, fast_settings, data=None) for _ in range(3)]
    repo = pygit2.Repository(str(a))
    heads = store.list_runs(repo)
    assert coderefs.code_commits(repo) == {r: head for r in runs}
    some = {runs[0]: heads[runs[0]]}  # type: ignore[index]
    assert coderefs.code_commits(repo, some) == {runs[0]: head}  # type: ignore[arg-type]
    with sqlite3.connect(index.cache_path(repo)) as db:
        cached = {row[0] for row in db.execute("SELECT run_id FROM checkpoints")}
    assert cached == set(runs)
