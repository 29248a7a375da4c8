from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path

import pygit2
import pytest

import gittrack
from gittrack.errors import FormatError, GittrackError
from gittrack.runs import index, store
from gittrack.runs.view import all_runs
from gittrack.types import CommitId, RunId
from tests.helpers.runs import make_run


def make_runs(n: int, settings: dict[str, object]) -> list[str]:
    return [make_run([{"loss": float("nan") if i == 0 else 1.0 / i}],
                     config={"i": i, "nested": {"x": [1, 2]}}, settings=settings).id
            for i in range(n)]


def open_repo(path: Path) -> pygit2.Repository:
    return pygit2.Repository(str(path))


def cached_commits(repo: pygit2.Repository) -> set[str]:
    if not index.cache_path(repo).exists():
        return set()
    db = sqlite3.connect(index.cache_path(repo))
    try:
        return {row[0] for row in db.execute("SELECT commit_id FROM checkpoints")}
    finally:
        db.close()


def edit_cache(repo: pygit2.Repository, sql: str, *params: object) -> None:
    db = sqlite3.connect(index.cache_path(repo))
    with db:
        db.execute(sql, params)
    db.close()


def forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a checkpoint the cache holds")

    monkeypatch.setattr(store, "load_checkpoint", fail)


def test_a_second_listing_reads_only_the_cache(
    repo: Path, fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_runs(3, fast_settings)
    git = open_repo(repo)
    first = [(v.id, v.metadata, v.config, v.summary) for v in all_runs(git)]
    assert cached_commits(git) == set(store.list_runs(git).values())
    forbid_parsing(monkeypatch)
    again = [(v.id, v.metadata, v.config, v.summary) for v in all_runs(open_repo(repo))]
    assert [row[0] for row in again] == ids[::-1]
    assert repr(again) == repr(first)  # NaN included
    assert math.isnan(again[-1][3]["loss"])


def test_entries_follow_the_heads(repo: Path, fast_settings: dict[str, object]) -> None:
    make_runs(2, fast_settings)
    git = open_repo(repo)
    all_runs(git)
    run = gittrack.init(settings=fast_settings)
    run.finish()
    with gittrack.init(id=run.id, resume="must", settings=fast_settings) as resumed:
        resumed.log({"x": 1})
    views = all_runs(git)
    assert len(views) == 3
    assert cached_commits(git) == set(store.list_runs(git).values())
    assert {v.id: v.summary for v in views}[run.id] == {"x": 1}


def test_a_broken_cache_is_ignored_and_rewritten(
    repo: Path, fast_settings: dict[str, object]
) -> None:
    make_runs(2, fast_settings)
    git = open_repo(repo)
    path = index.cache_path(git)
    for junk in (b"{not json", b"SQLite format 3\x00" + b"\xff" * 200, b""):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junk)
        assert len(all_runs(git)) == 2
        assert cached_commits(git) == set(store.list_runs(git).values())


def test_a_bad_entry_is_parsed_again(repo: Path, fast_settings: dict[str, object]) -> None:
    [run_id] = make_runs(1, fast_settings)
    git = open_repo(repo)
    all_runs(git)
    edit_cache(git, "UPDATE checkpoints SET info = ?", '{"no": "id"}')
    [view] = all_runs(git)
    assert view.id == run_id and view.info.id == run_id


def commit_run(git: pygit2.Repository, run_id: str, files: dict[str, bytes]) -> CommitId:
    tree = git.TreeBuilder()
    for name, data in files.items():
        tree.insert(name, git.create_blob(data), pygit2.enums.FileMode.BLOB)
    sig = pygit2.Signature("t", "t@example.com")
    commit = git.create_commit(None, sig, sig, "hand-made", tree.write(), [])
    git.references.create(f"refs/gittrack/runs/{run_id}", commit)
    return CommitId(str(commit))


RUN_YAML = b"format: 1\nid: %s\nname: n\nstate: finished\ncreated_at: '2026-01-01T00:00:00.0Z'\n"


def test_values_json_cannot_hold_are_not_cached(repo: Path) -> None:
    git = open_repo(repo)
    commit_run(git, "handmade", {"run.yaml": RUN_YAML % b"handmade",
                                 "config.yaml": b"day: 2026-01-02\n1: int key\n"})
    for _ in range(2):
        [view] = all_runs(git)
        assert str(view.config["day"]) == "2026-01-02" and view.config[1] == "int key"
    assert cached_commits(git) == set()


def test_unreadable_runs_raise_or_are_reported(repo: Path) -> None:
    git = open_repo(repo)
    commit_run(git, "ok", {"run.yaml": RUN_YAML % b"ok"})
    commit_run(git, "future", {"run.yaml": b"format: 7\nid: future\n"})
    with pytest.raises(FormatError, match="format 7"):
        all_runs(git)
    errors: list[tuple[RunId, GittrackError]] = []
    views = all_runs(git, lambda run_id, exc: errors.append((run_id, exc)))
    assert [v.id for v in views] == ["ok"]
    assert [run_id for run_id, _ in errors] == ["future"]
    assert cached_commits(git) == {str(git.references["refs/gittrack/runs/ok"].target)}


def test_an_unwritable_cache_is_no_error(repo: Path, fast_settings: dict[str, object]) -> None:
    make_runs(1, fast_settings)
    git = open_repo(repo)
    folder = index.cache_path(git).parent
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")  # the tests run as root: permissions would not stop it
    assert len(all_runs(git)) == 1
    assert folder.read_text() == "not a folder"


def test_no_temporary_files_are_left(repo: Path, fast_settings: dict[str, object]) -> None:
    make_runs(2, fast_settings)
    git = open_repo(repo)
    all_runs(git)
    name = index.cache_path(git).name  # and sqlite's journal beside it
    assert {p.name for p in index.cache_path(git).parent.iterdir()} <= {
        name, f"{name}-wal", f"{name}-shm"}


def test_a_cached_entry_is_checked_as_a_parse_would(repo: Path) -> None:
    """An entry an older gittrack cached for a forged run (a wrong type, another run's id)
    is parsed again, and the run reported, instead of breaking the listing."""
    git = open_repo(repo)
    commit_run(git, "ok", {"run.yaml": RUN_YAML % b"ok"})
    forged = commit_run(git, "forged", {"run.yaml": RUN_YAML % b"forged" + b"tags: 5\n"})
    all_runs(git, lambda *_: None)
    info = ('{"format": 1, "id": "forged", "name": "n", "state": "finished", "tags": 5, '
            '"created_at": "2026-01-01T00:00:00.0Z"}')
    edit_cache(git, "INSERT INTO checkpoints (commit_id, run_id, present, f_name, f_state, "
               "info, config, summary) VALUES (?, 'forged', 1, 'n', 'finished', ?, '{}', '{}')",
               forged, info)
    errors: list[RunId] = []
    assert [v.id for v in all_runs(git, lambda run_id, exc: errors.append(run_id))] == ["ok"]
    assert errors == ["forged"]
