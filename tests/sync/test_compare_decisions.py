"""``sync.compare``: how a ref stands, for every standing, on a real commit graph."""

from __future__ import annotations

import pytest

from gittrack.artifacts.reachability import ARTIFACT_VERSIONS  # registered on import
from gittrack.storage.reachability import names_blobs
from gittrack.sync.compare import Standing, compare, kind_and_name, local_changes
from gittrack.types import CommitId
from tests.helpers.graph import MISSING, Graph, make_graph

RUN = "refs/gittrack/runs/r1"
ARTIFACT = "refs/gittrack/artifacts/model"
ALIAS = "refs/gittrack/aliases/model/best"


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    return make_graph(tmp_path_factory.mktemp("graph") / "repo")


# (ref, local, remote, last seen on the remote) → standing; commits by name in ``Graph``.
STANDINGS = {
    "same": (RUN, "a1", "a1", None, Standing.SAME),
    "absent on both sides": (RUN, None, None, None, Standing.SAME),
    "new here": (RUN, "a1", None, None, Standing.LOCAL_ONLY),
    "deleted there": (RUN, "a1", None, "a1", Standing.DELETED),
    "deleted there, changed here": (RUN, "a2", None, "a1", Standing.DELETED),
    "only there": (RUN, None, "a1", None, Standing.REMOTE_ONLY),
    "only there, seen before": (RUN, None, "a1", "base", Standing.REMOTE_ONLY),
    "ahead": (RUN, "a2", "base", None, Standing.AHEAD),
    "behind": (RUN, "base", "a2", None, Standing.BEHIND),
    "diverged": (RUN, "a1", "b1", None, Standing.DIVERGED),
    "artifact ahead": (ARTIFACT, "a2", "a1", "a1", Standing.AHEAD),
    "artifact diverged": (ARTIFACT, "b1", "a2", "a1", Standing.DIVERGED),
    # The remote's commit is not here: it moved on from what we saw (behind), or we cannot
    # tell (diverged until a pull fetches it).
    "unfetched, we had the last seen": (RUN, "a1", "missing", "a1", Standing.BEHIND),
    "unfetched, never seen": (RUN, "a1", "missing", None, Standing.DIVERGED),
    "unfetched, ours moved too": (RUN, "a2", "missing", "a1", Standing.DIVERGED),
    # Aliases move anywhere: the last seen value says who moved, not ancestry.
    "alias moved here": (ALIAS, "b1", "a2", "a2", Standing.AHEAD),
    "alias moved there": (ALIAS, "a2", "b1", "a2", Standing.BEHIND),
    "alias moved on both sides": (ALIAS, "a1", "a2", "base", Standing.DIVERGED),
    "alias never seen": (ALIAS, "a2", "a1", None, Standing.DIVERGED),
    "alias new here": (ALIAS, "a1", None, None, Standing.LOCAL_ONLY),
    "alias deleted there": (ALIAS, "a1", None, "a1", Standing.DELETED),
}


def _sha(graph: Graph, name: str | None) -> CommitId | None:
    if name is None:
        return None
    return MISSING if name == "missing" else CommitId(getattr(graph, name))


def _commit(graph: Graph, name: str) -> CommitId:
    found = _sha(graph, name)
    assert found is not None
    return found


@pytest.mark.parametrize(("ref", "local", "remote", "seen", "expected"),
                         STANDINGS.values(), ids=list(STANDINGS))
def test_standing(graph: Graph, ref: str, local: str | None, remote: str | None,
                  seen: str | None, expected: Standing) -> None:
    state = compare(graph.repo, ref, _sha(graph, local), _sha(graph, remote), _sha(graph, seen))
    assert state.standing is expected
    assert (state.ref, state.local, state.remote) == (ref, _sha(graph, local),
                                                       _sha(graph, remote))


# (ref, local, last seen) → whether the local ref holds what the remote did not have.
CHANGES = {
    "unchanged": (RUN, "a1", "a1", False),
    "the remote had more": (RUN, "a1", "a2", False),
    "grown here": (RUN, "a2", "a1", True),
    "diverged": (RUN, "b1", "a1", True),
    "last seen not here": (RUN, "a1", "missing", True),
    "alias moved": (ALIAS, "base", "a1", True),
    "alias unchanged": (ALIAS, "a1", "a1", False),
}


@pytest.mark.parametrize(("ref", "local", "seen", "expected"), CHANGES.values(),
                         ids=list(CHANGES))
def test_local_changes(graph: Graph, ref: str, local: str, seen: str, expected: bool) -> None:
    assert local_changes(graph.repo, ref, _commit(graph, local), _commit(graph, seen)) is expected


@pytest.mark.parametrize(("ref", "label", "artifact", "blobs"), [
    (RUN, "run r1", False, True),  # a run's media, console and saved code
    (ARTIFACT, "artifact model", True, True),
    (ALIAS, "alias model:best", True, True),
    ("refs/gittrack/aliases/team/model/prod", "alias team/model:prod", True, True),
    ("refs/gittrack/other/x", "other x", False, False),
])
def test_kind_and_name(ref: str, label: str, artifact: bool, blobs: bool) -> None:
    assert kind_and_name(ref) == label
    assert ARTIFACT_VERSIONS.owns(ref) is artifact
    assert names_blobs(ref) is blobs  # push, pull, hook ask
