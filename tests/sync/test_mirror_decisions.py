"""``sync.mirror``'s decisions: what each ref was on the remote at the last sync, when the
mirror can tell a deletion, and the ref changes a fetch, a push and a pull make to the mirror,
its agreed values and its tombstones (planned, not yet written)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gittrack.git.refs import RefUpdate
from gittrack.sync import mirror
from gittrack.sync.mirror import Snapshot
from gittrack.types import CommitId
from tests.helpers.graph import Graph, make_graph
from tests.helpers.repos import git

RUN, OTHER = "refs/gittrack/runs/r", "refs/gittrack/runs/s"
ALIAS = "refs/gittrack/aliases/model/best"
M, B = "refs/gittrack-remotes/origin/", "refs/gittrack-sync/origin/"
L, R, S = CommitId("1" * 40), CommitId("2" * 40), CommitId("3" * 40)


def test_last_seen_is_the_mirror_and_for_aliases_the_agreed_value() -> None:
    before = Snapshot(local={}, mirrored={RUN: L, ALIAS: L, OTHER: R},
                      agreed={RUN: R, ALIAS: S, "refs/gittrack/runs/t": S})
    assert before.last_seen() == {RUN: L, OTHER: R, ALIAS: S, "refs/gittrack/runs/t": S}


def test_names_in_the_mirror() -> None:
    assert mirror.to_mirror("origin", RUN) == M + "runs/r"
    assert mirror.fetch_refspec("origin") == f"+refs/gittrack/*:{M}*"


def _pairs(updates: list[RefUpdate]) -> set[tuple[str, str | None]]:
    assert all(not u.checked for u in updates)  # only sync writes these refs
    return {(u.name, u.new) for u in updates}


def test_record_updates_after_a_push() -> None:
    """The mirror takes the value sent; an alias also its agreed value; a run's tombstone
    (it was deleted there, and sent back) goes."""
    updates = mirror.record_updates("origin", [(RUN, L), (ALIAS, R), (OTHER, None)],
                                    agreed={RUN: S})
    assert _pairs(updates) == {(M + "runs/r", L), (B + "runs/r", None),
                               (M + "aliases/model/best", R), (B + "aliases/model/best", R),
                               (M + "runs/s", None)}


def test_agree_forget_and_reset_updates() -> None:
    assert _pairs(mirror.agree_updates("origin", [(ALIAS, L), (RUN, L)], {})) == {
        (B + "aliases/model/best", L)}
    assert mirror.agree_updates("origin", [(ALIAS, L)], {ALIAS: L}) == []
    assert _pairs(mirror.forget_updates("origin", [RUN])) == {(B + "runs/r", None)}
    before = Snapshot(local={}, mirrored={RUN: L, OTHER: L}, agreed={ALIAS: L, OTHER: R})
    assert _pairs(mirror.reset_updates("origin", before, {OTHER: L})) == {
        (M + "runs/r", None), (B + "aliases/model/best", None)}


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Graph, Path]:
    """A repository with the commit graph, and a bare remote ``origin`` holding it."""
    graph = make_graph(tmp_path / "here")
    bare = tmp_path / "there.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(graph.path, "remote", "add", "origin", str(bare))
    return graph, bare


def _set(path: Path, refs: dict[str, str]) -> None:
    for ref, sha in refs.items():
        git(path, "update-ref", ref, sha)


def _push(graph: Graph, refs: dict[str, str]) -> None:
    git(graph.path, "push", "-q", "origin", *(f"{sha}:{ref}" for ref, sha in refs.items()))


# (recorded URL is this one, remote has refs, remote marked, mirror had refs) → trusted
TRUST = {
    "same URL": (True, True, False, True, True),
    "another URL": (False, True, False, True, False),
    "emptied, marked": (True, False, True, True, True),
    "emptied by hand": (True, False, False, True, False),
    "empty, and nothing mirrored": (True, False, False, False, True),
}


@pytest.mark.parametrize(("same", "there", "marked", "mirrored", "trusted"), TRUST.values(),
                         ids=list(TRUST))
def test_trusts(pair: tuple[Graph, Path], same: bool, there: bool, marked: bool,
                mirrored: bool, trusted: bool) -> None:
    graph, _ = pair
    url = mirror.mirror_url(graph.repo, "origin")
    mirror.remember_url(graph.repo, "origin", url if same else "/elsewhere")
    assert mirror.trusts(graph.repo, "origin", url, {RUN: L} if mirrored else {},
                         {RUN: L} if there else {}, marked) is trusted


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "another URL"])
def test_look_plans_the_mirror_changes_and_writes_nothing(pair: tuple[Graph, Path],
                                                          trusted: bool) -> None:
    g, _ = pair
    _set(g.path, {"refs/gittrack/runs/kept": g.a1, "refs/gittrack/runs/moved": g.a1,
                  "refs/gittrack/runs/gone": g.a1,
                  M + "runs/kept": g.a1, M + "runs/moved": g.a1, M + "runs/gone": g.a1,
                  M + "runs/gone-unknown-here": g.base,
                  B + "runs/back": g.base, B + "runs/tombstone": g.base})
    _push(g, {"refs/gittrack/runs/kept": g.a1, "refs/gittrack/runs/moved": g.a2,
              "refs/gittrack/runs/new": g.b1, "refs/gittrack/runs/back": g.base})
    url = mirror.mirror_url(g.repo, "origin")
    mirror.remember_url(g.repo, "origin", url if trusted else "/elsewhere")
    refs_before = git(g.path, "for-each-ref")

    fetched = mirror.look(g.repo, "origin")

    assert fetched.trusted is trusted
    assert fetched.after == {"refs/gittrack/runs/kept": g.a1, "refs/gittrack/runs/moved": g.a2,
                             "refs/gittrack/runs/new": g.b1, "refs/gittrack/runs/back": g.base}
    expected = {(M + "runs/moved", g.a2), (M + "runs/new", g.b1), (M + "runs/back", g.base),
                (M + "runs/gone", None), (M + "runs/gone-unknown-here", None),
                (B + "runs/back", None)}  # a tombstone of a ref back on the remote goes
    if trusted:
        expected.add((B + "runs/gone", g.a1))  # deleted there, still here: a tombstone
    else:
        expected.add((B + "runs/tombstone", None))  # it described another remote
    assert _pairs(fetched.updates) == expected
    assert git(g.path, "for-each-ref") == refs_before


def test_known_elsewhere_holds_refs_another_remote_had(pair: tuple[Graph, Path]) -> None:
    """A push to an address that is no configured remote, which carries the deletion mark:
    refs this clone got from any remote are held unless it has them."""
    graph, bare = pair
    _set(graph.path, {M + "runs/r": graph.a1, B + "runs/s": graph.b1})
    # the remote's own address, spelled otherwise, is the remote; another one is not
    assert mirror.mirror_key(graph.repo, f"file://{bare}/../there.git/") == "origin"
    other = bare.parent / "other.git"
    subprocess.run(["git", "init", "-q", "--bare", str(other)], check=True)
    key = mirror.mirror_key(graph.repo, str(other))
    assert key.startswith("url-")
    assert mirror.known_elsewhere(graph.repo, key, marked=True) == {RUN: graph.a1,
                                                                     OTHER: graph.b1}
    assert mirror.known_elsewhere(graph.repo, key, marked=False) == {}
    assert mirror.known_elsewhere(graph.repo, "origin", marked=True) == {}
