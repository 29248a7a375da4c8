"""Listing and filtering many runs from the cache's columns (``view.select``,
``index.values``) gives what testing every run's checkpoint read from git gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittrack.runs import index, store
from gittrack.runs.query import compile_filter
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import RunView, select
from tests.helpers.many_runs import runs_in

COUNT = 40

FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "finished"},
    {"state": {"$in": ["failed", "crashed"]}},
    {"tags": "shard-3"},
    {"tags": {"$nin": ["shard-1", "shard-2"]}},
    {"metadata.code.branch": "main"},
    {"metadata.code.branch": {"$regex": "^feat"}},
    {"config.lr": 0.01},
    {"config.lr": {"$lt": 0.01}, "state": "finished"},
    {"summary.acc": {"$gte": 0.95}},
    {"group": "group-7"},
    {"name": {"$regex": "run-00001"}},
    {"metadata.host": "bench"},
    {"created_at": {"$gt": "2026-01-01T00:00:20"}},
    {"$or": [{"tags": "shard-1"}, {"config.seed": 7}]},
    {"$and": [{"state": "finished"}, {"$or": [{"group": "group-1"}, {"group": "group-2"}]}]},
    {"notes": None},
    {"notes": {"$exists": True}},
    {"metadata.missing": {"$exists": False}},
    {"project": "bench", "job_type": "train", "config.batch_size": 64},
]


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("many") / "repo"
    pygit2.init_repository(str(path))
    runs_in(path, COUNT)
    return path


def slow_path(git: pygit2.Repository, filters: dict[str, Any]) -> list[str]:
    """Every run read from git, tested as a view, newest first: no cache involved."""
    test = compile_filter(filters)
    views = [RunView(git, run_id, commit) for run_id, commit in store.list_runs(git).items()]
    views.sort(key=lambda v: (v.created_at, v.id), reverse=True)
    return [v.id for v in views if test(v)]


@pytest.mark.parametrize("filters", FILTERS, ids=[repr(f) for f in FILTERS])
def test_filters_equal_the_slow_path(many: Path, filters: dict[str, Any]) -> None:
    git = pygit2.Repository(str(many))
    expected = slow_path(git, filters)
    for _ in range(2):  # the first listing builds the cache, the second reads it
        listing = select(git, filters)
        assert [v.id for v in listing.views] == expected
        assert listing.matched == len(expected) and listing.total == COUNT
    assert [v.id for v in select(git, filters, limit=3).views] == expected[:3]


def test_views_read_the_same_as_from_git(many: Path) -> None:
    git = pygit2.Repository(str(many))
    for view in select(git, {"tags": "shard-5"}).views:
        fresh = RunView(git, view.id, view.commit)
        assert (view.metadata, view.config, view.summary) == (
            fresh.metadata, fresh.config, fresh.summary)


def test_only_new_or_moved_heads_are_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pygit2.init_repository(str(tmp_path))
    runs_in(tmp_path, 12)
    git = pygit2.Repository(str(tmp_path))
    assert select(git).total == 12
    parsed: list[str] = []
    load = store.load_checkpoint

    def counting(repo: Any, commit: Any, **kw: Any) -> store.Checkpoint:
        parsed.append(kw["run_id"])
        return load(repo, commit, **kw)

    monkeypatch.setattr(store, "load_checkpoint", counting)
    assert select(git).total == 12 and parsed == []
    moved = runs_in(tmp_path, 1, start=4)  # a new checkpoint of run 4
    new = runs_in(tmp_path, 2, start=12)
    listing = select(pygit2.Repository(str(tmp_path)))
    assert sorted(parsed) == sorted(moved + new)
    assert listing.total == 14
    assert listing.views[0].id == new[-1]
    assert {v.id: v.commit for v in listing.views} == store.list_runs(git)


def test_an_old_or_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    pygit2.init_repository(str(tmp_path))
    ids = runs_in(tmp_path, 3)
    git = pygit2.Repository(str(tmp_path))
    folder = index.cache_path(git).parent
    folder.mkdir(parents=True)
    (folder / "checkpoints-v1.json").write_text('{"version": 1, "entries": {}}')
    index.cache_path(git).write_bytes(b"SQLite format 3\x00" + b"\x00" * 300)
    assert [v.id for v in select(git).views] == ids[::-1]
    assert not (folder / "checkpoints-v1.json").exists()  # the old cache is removed
    assert [v.id for v in select(git).views] == ids[::-1]


def test_show_by_name_and_prefix_use_the_cache(many: Path) -> None:
    git = pygit2.Repository(str(many))
    select(git)
    run_id = resolve_run(git, "run-000017").id
    assert resolve_run(git, run_id[:14]).id == run_id
    assert resolve_run(git, run_id).name == "run-000017"


FIELDS = {
    "state": st.sampled_from(["finished", "failed", "crashed", "running"]),
    "tags": st.sampled_from(["sweep", "shard-0", "shard-5", "none"]),
    "group": st.sampled_from(["group-1", "group-33", None]),
    "metadata.code.branch": st.sampled_from(["main", "exp/augment", "x"]),
    "config.lr": st.sampled_from([0.1, 0.01, 0.001, 1]),
    "config.batch_size": st.sampled_from([32, 64, 128.0]),
    "summary.acc": st.floats(0.5, 1.0),
    "name": st.sampled_from(["run-000003", "run-000039"]),
}


def conditions(field: str) -> st.SearchStrategy[Any]:
    value = FIELDS[field]
    return st.one_of(
        value,
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$eq", "$ne"]), value),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$lte"]),
                  value.filter(lambda v: v is not None)),
        st.builds(lambda op, vs: {op: vs}, st.sampled_from(["$in", "$nin"]),
                  st.lists(value, max_size=3)),
        st.builds(lambda b: {"$exists": b}, st.booleans()),
    )


clauses = st.sampled_from(sorted(FIELDS)).flatmap(
    lambda field: conditions(field).map(lambda c: {field: c}))
filters = st.recursive(
    clauses,
    lambda inner: st.builds(lambda op, parts: {op: parts}, st.sampled_from(["$and", "$or"]),
                            st.lists(inner, min_size=1, max_size=3)),
    max_leaves=5,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters)
def test_random_filters_equal_the_slow_path(many: Path, filters: dict[str, Any]) -> None:
    git = pygit2.Repository(str(many))
    assert [v.id for v in select(git, filters).views] == slow_path(git, filters)


ODD_CONFIGS: list[dict[str, Any]] = [
    {"lr": 12345678901234567890, "flag": True, "name": 'say "hi"\\', "nested": {"a": 1}},
    {"lr": 1e-05, "flag": 1, "name": "plain", "nested": [1, 2], "a.b": 3},
    {"lr": -0.0, "flag": False, "name": None, "a": {"b": 4}},
    {"lr": 0.1 + 0.2, "other": "x"},
]
ODD_FILTERS: list[dict[str, Any]] = [
    {"config.lr": 12345678901234567890}, {"config.lr": {"$gt": 1e19}},
    {"config.lr": 0.30000000000000004}, {"config.lr": 0.3}, {"config.lr": {"$lt": 0}},
    {"config.lr": 0.0},
    {"config.flag": True}, {"config.flag": 1}, {"config.flag": {"$exists": True}},
    {"config.name": 'say "hi"\\'}, {"config.name": None}, {"config.name": {"$exists": False}},
    {"config.nested": {"a": 1}}, {"config.nested": [1, 2]}, {"config.a.b": {"$in": [3, 4]}},
    {"summary.loss": {"$gte": 0}}, {"summary.loss": {"$exists": True}},
    {"metadata.code.branch": {"$exists": True}}, {"metadata.code.dirty": False},
]


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs whose config values sqlite's JSON functions could get wrong (64-bit overflow,
    booleans, quotes, nesting, dotted keys), and one summary holding a NaN (JSON as Python
    writes it, which sqlite refuses: the documents are then decoded in Python)."""
    import gittrack

    path = tmp_path_factory.mktemp("odd") / "repo"
    pygit2.init_repository(str(path))
    for i, config in enumerate(ODD_CONFIGS):
        run = gittrack.init(repo=str(path), config=config, settings={"quiet": True})
        run.log({"loss": float("nan") if i == 3 else 0.5 * i})
        run.finish()
    return path


@pytest.mark.parametrize("filters", ODD_FILTERS, ids=[repr(f) for f in ODD_FILTERS])
def test_values_picked_by_sqlite_equal_the_slow_path(odd: Path, filters: dict[str, Any]) -> None:
    git = pygit2.Repository(str(odd))
    expected = slow_path(git, filters)
    for _ in range(2):  # the first listing builds the cache, the second reads it
        assert [v.id for v in select(git, filters).views] == expected, filters
