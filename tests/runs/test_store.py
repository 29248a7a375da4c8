"""Reading one run that is broken: every failure is a gittrack error naming it, and listing
reports it and goes on with the other runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

import gittrack
from gittrack.errors import FormatError, GittrackError, GittrackWarning, RepositoryError
from gittrack.runs import layout
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import all_runs
from gittrack.types import RunId
from tests.helpers.forge_runs import delete_loose_object, forge_run, run_yaml
from tests.helpers.hostile import BILLION_LAUGHS
from tests.helpers.repos import git
from tests.helpers.runs import make_run

Breaker = Callable[[Path, str], None]


def real_run(settings: dict[str, object], name: str) -> str:
    rows = [{"loss": 1.0 / (step + 1)} for step in range(3)]
    return make_run(rows, name=name, config={"lr": 0.1, "for": name}, settings=settings).id


def good_and_broken(repo: Path, settings: dict[str, object], breaker: Breaker) -> tuple[str, str]:
    """Two runs, ``good`` and ``bad``; ``breaker`` has broken the second. Their ids."""
    good = real_run(settings, "good")
    bad = real_run(settings, "bad")
    breaker(repo, bad)
    return good, bad


def blob_of(path: Path, run_id: str, file: str) -> str:
    repo = pygit2.Repository(str(path))
    commit = repo.references[layout.run_ref(RunId(run_id))].peel(pygit2.Commit)
    return str(commit.tree[file].id)


def missing(file: str) -> Breaker:
    def breaker(path: Path, run_id: str) -> None:
        delete_loose_object(path, blob_of(path, run_id, file))
    return breaker


def forged(files: dict[str, bytes]) -> Breaker:
    def breaker(path: Path, run_id: str) -> None:
        forge_run(path, run_id, {"run.yaml": run_yaml(run_id), **files})
    return breaker


def ref_to_blob(path: Path, run_id: str) -> None:
    repo = pygit2.Repository(str(path))
    repo.references.create(layout.run_ref(RunId(run_id)), repo.create_blob(b"x"), force=True)


def forged_id(path: Path, run_id: str) -> None:
    forge_run(path, run_id, {"run.yaml": run_yaml("someone-else")})


BROKEN_METADATA: dict[str, tuple[Breaker, str]] = {
    "missing config blob": (missing("config.yaml"), "missing or damaged"),
    "missing run.yaml blob": (missing("run.yaml"), "missing or damaged"),
    "run.yaml is a folder": (lambda p, r: forge_run(p, r, {"run.yaml/x": b"id: x\n"}),
                             "run.yaml is a tree"),
    "config.yaml is a folder": (forged({"config.yaml/x": b"a: 1\n"}), "config.yaml is a tree"),
    "config is a list": (forged({"config.yaml": b"- 1\n- 2\n"}), "not a mapping"),
    "summary is text": (forged({"summary.yaml": b"just text\n"}), "not a mapping"),
    "tags are a number": (lambda p, r: forge_run(p, r, {"run.yaml": run_yaml(r) + b"tags: 5\n"}),
                          "tags is not what gittrack writes"),
    "ref to a blob": (ref_to_blob, "not a commit"),
    "id of another run": (forged_id, "says it is run 'someone-else'"),
    "billion laughs": (forged({"config.yaml": BILLION_LAUGHS}), "anchors or aliases"),
    "nested 100,000 deep": (forged({"summary.yaml": b"[" * 100_000 + b"]" * 100_000}),
                            "nested more than"),
    "bad YAML": (forged({"config.yaml": b"a: [1\n"}), "cannot read config.yaml"),
}


@pytest.mark.parametrize("case", BROKEN_METADATA)
def test_a_broken_run_is_reported_and_the_others_listed(
    repo: Path, fast_settings: dict[str, object], case: str
) -> None:
    breaker, message = BROKEN_METADATA[case]
    good, bad = good_and_broken(repo, fast_settings, breaker)
    git = pygit2.Repository(str(repo))
    errors: list[tuple[str, GittrackError]] = []
    views = all_runs(git, lambda run_id, exc: errors.append((run_id, exc)))
    assert [v.id for v in views] == [good]
    assert [run_id for run_id, _ in errors] == [bad]
    assert message in str(errors[0][1])
    with pytest.warns(GittrackWarning, match=f"skipping run {bad}"):
        assert [v.id for v in gittrack.Api(str(repo)).runs()] == [good]
    with pytest.raises((FormatError, RepositoryError), match=message):
        resolve_run(git, bad).config  # noqa: B018
    with pytest.warns(GittrackWarning, match=f"skipping run {bad}"):
        assert resolve_run(git, "good").id == good  # by name: every run is read


BROKEN_HISTORY: dict[str, tuple[Breaker, type[GittrackError], str]] = {
    "missing chunk": (missing("history/0/000000.parquet"), RepositoryError,
                      "history/0/000000.parquet: git object"),
    "missing v1 chunk": (lambda p, r: (forge_run(p, r, {"run.yaml": run_yaml(r),
                                                        "history/000000.parquet": _chunk()}),
                                       missing("history/000000.parquet")(p, r)),
                         RepositoryError, "history/000000.parquet: git object"),
    "not Parquet": (forged({"history/000000.parquet": b"PAR1 not really PAR1"}), FormatError,
                    r"history/000000\.parquet of commit"),
    "truncated Parquet": (lambda p, r: forge_run(p, r, {
        "run.yaml": run_yaml(r), "history/000000.parquet": _chunk()[:-20]}),
        FormatError, r"history/000000\.parquet of commit"),
    "history is a file": (forged({"history": b"x"}), FormatError, "history is a blob"),
}


def _chunk() -> bytes:
    from gittrack.formats import table

    return table.history_chunk([0, 1], [0.0, 1.0], [0.0, 1.0], {"loss": [1.0, 0.5]})


@pytest.mark.parametrize("case", BROKEN_HISTORY)
def test_a_broken_history_is_a_gittrack_error_naming_the_chunk(
    repo: Path, fast_settings: dict[str, object], case: str
) -> None:
    breaker, kind, message = BROKEN_HISTORY[case]
    good, bad = good_and_broken(repo, fast_settings, breaker)
    api = gittrack.Api(str(repo))
    with pytest.raises(kind, match=message):
        api.run(bad).history()
    assert api.run(good).history(format="arrow").num_rows == 3


def test_histograms_of_a_broken_run_are_a_gittrack_error(
    repo: Path, fast_settings: dict[str, object]
) -> None:
    bad = real_run(fast_settings, "bad")
    forge_run(repo, bad, {"run.yaml": run_yaml(bad), "histograms/000000.parquet": b"junk"})
    with pytest.raises(FormatError, match=r"histograms/000000\.parquet"):
        gittrack.Api(str(repo)).run(bad).histograms()


def test_history_fields_and_projected_keys_match_the_full_read(repo: Path) -> None:
    make_run([{"loss": 1, "label": "a"}, {"acc": True}], id="chunked")
    make_run([{"loss": 0.5, "extra": 3}, {"acc": 2}], id="chunked", resume="must")
    view = gittrack.Api(".").run("chunked")
    assert len(git(repo, "ls-tree", "-r", "--name-only", view.commit, "history/").split()) > 1
    full = view.history_arrow()
    fields, rows = view.history_fields()
    assert [(f.name, f.type) for f in fields] == [(f.name, f.type) for f in full.schema]
    assert rows == full.num_rows == 4
    # only the columns asked for are decoded, and the answer is the full read's
    for keys in (["acc"], ["loss", "absent"], ["_runtime", "extra"], ["label", "label"]):
        want = [{k: row.get(k) for k in ["_step", "_timestamp", "_runtime", *keys]}
                for row in full.to_pylist()
                if any(row.get(k) is not None for k in keys if not k.startswith("_"))]
        got = view.history_arrow(keys).to_pylist()
        assert got == want, keys
    only = view.history_columns(["acc", "_step", "acc", "absent"])  # every row, as asked
    assert only.column_names == ["acc", "_step", "absent"]
    assert only.to_pydict() == {"acc": [None, 1, None, 2], "_step": [0, 1, 2, 3],
                                "absent": [None] * 4}
    system, rows = view.history_fields("system")
    sampled = view.history_arrow(stream="system")
    assert [(f.name, f.type) for f in system] == [(f.name, f.type) for f in sampled.schema]
    assert rows == sampled.num_rows
