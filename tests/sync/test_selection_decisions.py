"""``sync.selection``: a push of some runs takes the artifacts they used or logged, with every
version ref and alias of those artifacts, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gittrack.sync.selection import local_refs, select
from gittrack.types import CommitId
from tests.helpers.repos import CODE, git
from tests.helpers.runs import marked_run

RUNS, ARTS, ALIASES = "refs/gittrack/runs/", "refs/gittrack/artifacts/", "refs/gittrack/aliases/"


@pytest.fixture
def runs(repo: Path) -> dict[str, str]:
    """``maker`` logs ``model``, ``user`` uses it and logs ``data``, ``other`` logs ``other``
    (named ``lonely``); ``model`` has alias ``best``."""
    (repo / "w.bin").write_bytes(b"weights")
    maker = marked_run(artifact=("model", repo / "w.bin"))
    git(repo, "update-ref", ALIASES + "model/best", ARTS + "model")
    (repo / "d.csv").write_text("1,2\n")
    user = marked_run(artifact=("data", repo / "d.csv"), use="model:v0")
    (repo / "o.bin").write_bytes(b"other")
    other = marked_run(artifact=("other", repo / "o.bin"), name="lonely")
    return {"maker": maker, "user": user, "other": other}


def test_no_run_named_is_every_local_ref(repo: Path, runs: dict[str, str]) -> None:
    git_repo = pygit2.Repository(str(repo))
    every = local_refs(git_repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert set(every) == {*(RUNS + r for r in runs.values()), ARTS + "model", ARTS + "data",
                          ARTS + "other", ALIASES + "model/best", CODE + head}
    assert select(git_repo, []) == every


# which runs are named (by role, "lonely" by name) → the refs chosen besides their runs
CHOSEN = {
    "a run that logged an artifact": (["maker"], {ARTS + "model", ALIASES + "model/best"}),
    "a run that used one and logged another": (
        ["user"], {ARTS + "model", ALIASES + "model/best", ARTS + "data"}),
    "by name": (["lonely"], {ARTS + "other"}),
    "two runs": (["maker", "lonely"], {ARTS + "model", ALIASES + "model/best",
                                       ARTS + "other"}),
}


@pytest.mark.parametrize(("named", "artifacts"), CHOSEN.values(), ids=list(CHOSEN))
def test_named_runs_take_their_artifacts(repo: Path, runs: dict[str, str], named: list[str],
                                         artifacts: set[str]) -> None:
    git_repo = pygit2.Repository(str(repo))
    specs = [runs.get(n, n) for n in named]
    ids = {runs["other"] if n == "lonely" else runs[n] for n in named}
    chosen = select(git_repo, specs)
    code = {CODE + git(repo, "rev-parse", "HEAD").strip()}  # the runs' code commit's ref
    assert set(chosen) == {RUNS + i for i in ids} | artifacts | code
    every = local_refs(git_repo)
    assert all(chosen[ref] == every[ref] for ref in chosen)


def test_artifacts_are_matched_by_whole_name(repo: Path, runs: dict[str, str]) -> None:
    """Refs of artifacts whose names extend ``model`` (``model-x``, ``model/x``) are not
    ``model``'s; an alias of ``team/model`` is ``team/model``'s. Only refs in ``every``."""
    sha = CommitId("1" * 40)
    every = {ARTS + "model": sha, ARTS + "model-x": sha, ALIASES + "model-x/best": sha,
             ARTS + "model/x": sha, ALIASES + "model/x/best": sha, ALIASES + "model/prod": sha,
             RUNS + "elsewhere": sha}
    chosen = select(pygit2.Repository(str(repo)), [runs["maker"]], every)
    assert set(chosen) == {RUNS + runs["maker"], ARTS + "model", ALIASES + "model/prod"}
