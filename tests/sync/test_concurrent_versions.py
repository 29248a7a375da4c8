"""Two people log the same artifact before pulling (issue 13): the pull rebases the versions
made here onto the remote's chain, renumbered, content-identical ones collapse, aliases
follow, and the runs' lineage stays exact; a teammate's removal is taken when nothing new was
made here; only ``--force`` drops a teammate's version. Over the file transport and over
``git daemon``, with a folder store."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.repos import MakeClone, bare, git, refs_of
from tests.helpers.runs import make_run
from tests.helpers.storage import share_storage

MODEL = "refs/gittrack/artifacts/model"


def ok(result: CliResult) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout + result.stderr


def log_model(clone: Path, content: str, settings: dict[str, object], *,
              aliases: list[str] | None = None, use: str | None = None) -> str:
    """A finished run in ``clone`` logging ``content`` as artifact ``model``; its id."""
    path = clone / "model.bin"
    path.write_text(content)
    return make_run([{"loss": 0.5}], repo=str(clone), settings=settings,
                    artifact=("model", path), aliases=aliases, use=use).id


@pytest.fixture(params=["file", "daemon"])
def origin(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The team's bare origin, by path (file transport) or as ``git://`` (``git daemon``)."""
    if request.param == "daemon":
        return str(request.getfixturevalue("daemon_remote"))
    return "file://" + str(bare(tmp_path / f"origin-{uuid.uuid4().hex[:8]}.git"))


Team = tuple[Path, Path]


@pytest.fixture
def team(origin: str, make_clone: MakeClone, tmp_path: Path, cli: Any,
         monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object]) -> Team:
    """Alice and Bob, clones of ``origin`` sharing a folder store, both with ``model:v0`` and
    ``model:v1`` (Alice's, pulled by Bob)."""
    alice = make_clone("alice", origin)
    share_storage(alice, str(tmp_path / "store"))
    log_model(alice, "weights 0", fast_settings)
    log_model(alice, "weights 1", fast_settings)
    monkeypatch.chdir(alice)
    ok(cli("push"))
    bob = make_clone("bob", origin)
    monkeypatch.chdir(bob)
    ok(cli("pull"))
    return alice, bob


def version_of(clone: Path, spec: str) -> gittrack.ArtifactVersion:
    return gittrack.Api(str(clone)).artifact(spec)


def test_concurrent_versions_are_renumbered_on_pull(
        team: Team, cli: Any, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    alice, bob = team
    alice_run = log_model(alice, "alice weights", fast_settings, aliases=["prod"])
    bob_run = log_model(bob, "bob weights", fast_settings, aliases=["best"])
    bobs = version_of(bob, "model:v2")
    assert bobs.producer == bob_run
    evaluation = make_run([{"acc": 0.9}], repo=str(bob), settings=fast_settings,
                          use="model:v2").id  # uses his own v2
    monkeypatch.chdir(alice)
    ok(cli("push"))

    monkeypatch.chdir(bob)
    held = cli("push")  # his run goes; his model and its alias wait for a pull
    pushed = held.stdout
    assert held.exit_code != 0 and "1 ref(s) not sent" not in pushed
    line = next(x for x in pushed.splitlines() if "not sent: artifact model" in x)
    assert "`gittrack pull origin` puts yours on top" in line
    assert "--force" not in line  # the advice never destroys a teammate's version
    assert "not sent: alias model:best" in pushed
    there = git(bob, "ls-remote", "origin", "refs/gittrack/*")
    assert "refs/gittrack/aliases/model/best" not in there
    assert f"refs/gittrack/runs/{bob_run}" in there

    # Alice gets his run first: its record names his version, which she does not have yet,
    # never her own v2
    monkeypatch.chdir(alice)
    ok(cli("pull"))
    assert gittrack.Api(str(alice)).run(bob_run).logged_artifacts() == []
    assert "model:v2 (not here)" in ok(cli("show", bob_run))

    monkeypatch.chdir(bob)
    fetched = ok(cli("fetch"))
    assert "diverged: artifact model" in fetched and "`gittrack pull` puts the versions" \
        in fetched and "--force" not in fetched
    pulled = ok(cli("pull"))
    assert "rebased artifact model" in pulled and "model:v2 is now model:v3" in pulled
    api = gittrack.Api(str(bob))
    assert api.artifact("model:v2").producer == alice_run
    mine = api.artifact("model:v3")
    assert mine.producer == bob_run and mine.commit != bobs.commit
    assert mine.replaces == (bobs.commit,) and mine.created_at == bobs.created_at
    assert mine.path("model.bin", root=bob / "out").read_text() == "bob weights"
    assert api.artifact("model:latest") == mine
    assert api.artifact("model:best") == mine  # his alias followed his version
    assert api.artifact("model:prod").version == 2  # hers came with the pull
    # His run recorded `model:v2` and the commit: it resolves to v3, marked as replaced.
    logged = api.run(bob_run).logged_artifacts()
    assert [v.spec for v in logged] == ["model:v3"]
    assert api.logged_by("model:v3").id == bob_run  # type: ignore[union-attr]
    assert [r.id for r in api.runs() if r.id == alice_run]  # her run came too
    assert api.logged_by("model:v2").id == alice_run  # type: ignore[union-attr]
    shown = ok(cli("show", bob_run))
    assert "model:v3 (recorded as model:v2, renumbered by a pull)" in shown
    assert [r.id for r in api.used_by("model:v3")] == [evaluation]
    assert api.used_by("model:v2") == []  # Alice's v2: his run used his, not hers
    shown = ok(cli("artifact", "show", "model:v3"))
    assert f"replaces     {bobs.commit[:12]}" in shown and evaluation in shown
    assert json.loads(ok(cli("artifact", "show", "model:v3", "--json")))["replaces"] == [
        bobs.commit]

    assert "sent" in ok(cli("push"))
    monkeypatch.chdir(alice)
    ok(cli("pull"))
    assert refs_of(alice) == refs_of(bob)
    theirs = gittrack.Api(str(alice))
    assert [v.spec for v in theirs.run(bob_run).logged_artifacts()] == ["model:v3"]
    assert [v.spec for v in theirs.run(alice_run).logged_artifacts()] == ["model:v2"]
    assert theirs.logged_by("model:v3").id == bob_run  # type: ignore[union-attr]
    assert "recorded as model:v2" in ok(cli("show", bob_run))


def test_identical_content_collapses_into_one_version(
        team: Team, cli: Any, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    alice, bob = team
    log_model(alice, "same weights", fast_settings)
    bob_run = log_model(bob, "same weights", fast_settings, aliases=["best"])
    monkeypatch.chdir(alice)
    ok(cli("push"))
    monkeypatch.chdir(bob)
    pulled = json.loads(ok(cli("pull", "--json")))
    assert pulled["rebased"][0]["collapsed"] == [{"from": 2, "into": 2}]
    api = gittrack.Api(str(bob))
    assert [v.version for v in api.artifacts("model")] == [2, 1, 0]
    assert refs_of(bob)[MODEL] == refs_of(alice)[MODEL]
    assert api.artifact("model:best").version == 2
    assert [v.spec for v in api.run(bob_run).logged_artifacts()] == ["model:v2"]


def test_a_teammates_removal_is_taken_when_nothing_new_here(
        team: Team, cli: Any, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    alice, bob = team
    log_model(alice, "weights 2", fast_settings)
    monkeypatch.chdir(alice)
    ok(cli("push"))
    monkeypatch.chdir(bob)
    ok(cli("pull"))
    monkeypatch.chdir(alice)
    ok(cli("artifact", "rm", "model:v1", "--remote", "origin", "--yes"))
    monkeypatch.chdir(bob)
    pulled = ok(cli("pull"))
    assert "removed here too: model:v1" in pulled
    assert refs_of(bob)[MODEL] == refs_of(alice)[MODEL]
    assert [v.version for v in gittrack.Api(str(bob)).artifacts("model")] == [2, 0]


def test_a_removal_and_a_new_version_here(
        team: Team, cli: Any, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    """Alice removes v1 on origin while Bob logs v2: Bob's pull takes the removal and keeps
    his version on top."""
    alice, bob = team
    monkeypatch.chdir(alice)
    ok(cli("artifact", "rm", "model:v1", "--remote", "origin", "--yes"))
    bob_run = log_model(bob, "bob weights", fast_settings)
    monkeypatch.chdir(bob)
    ok(cli("pull"))
    api = gittrack.Api(str(bob))
    assert [v.version for v in api.artifacts("model")] == [2, 0]
    assert api.logged_by("model:v2").id == bob_run  # type: ignore[union-attr]


def test_only_force_drops_a_teammates_version(
        team: Team, cli: Any, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    alice, bob = team
    log_model(alice, "alice weights", fast_settings)
    log_model(bob, "bob weights", fast_settings)
    monkeypatch.chdir(alice)
    ok(cli("push"))
    monkeypatch.chdir(bob)
    before = refs_of(Path(bob))[MODEL]
    assert cli("push").exit_code != 0  # holds his model back
    remote = gittrack.Api(str(alice)).artifact("model:v2")
    ok(cli("pull", "--force"))  # takes the remote's chain: his own version goes, on purpose
    assert refs_of(bob)[MODEL] == refs_of(alice)[MODEL] != before
    assert version_of(bob, "model:latest").commit == remote.commit


def test_the_pre_push_hook_says_to_pull(
        team: Team, cli: Any, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    """Bob's `git push` (hook installed) sends his run, holds his model back and says so."""
    alice, bob = team
    log_model(alice, "alice weights", fast_settings)
    bob_run = log_model(bob, "bob weights", fast_settings)
    monkeypatch.chdir(alice)
    ok(cli("push"))
    monkeypatch.chdir(bob)
    ok(cli("hooks", "install"))
    git(bob, "commit", "-q", "--allow-empty", "-m", "train")
    done = subprocess.run(["git", "push", "origin", "main"], cwd=bob, capture_output=True,
                          text=True)
    assert done.returncode == 0  # the code push goes on
    assert "gittrack: not sent: artifact model has versions on origin that you lack" \
        in done.stderr and "`gittrack pull origin` puts yours on top" in done.stderr
    there = git(bob, "ls-remote", "origin", "refs/gittrack/*")
    assert f"refs/gittrack/runs/{bob_run}" in there
    assert refs_of(alice)[MODEL] in there  # Alice's model is still the remote's


def test_the_first_version_made_on_both_sides(
        origin: str, make_clone: MakeClone, tmp_path: Path, cli: Any,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object]) -> None:
    """No version in common (both made the artifact): Bob's v0 becomes v1 on Alice's v0."""
    alice = make_clone("alice", origin)
    share_storage(alice, str(tmp_path / "store"))
    bob = make_clone("bob", origin)
    alice_run = log_model(alice, "alice weights", fast_settings)
    bob_run = log_model(bob, "bob weights", fast_settings)
    monkeypatch.chdir(alice)
    ok(cli("push"))
    monkeypatch.chdir(bob)
    assert "model:v0 is now model:v1" in ok(cli("pull"))
    api = gittrack.Api(str(bob))
    assert [(v.version, v.producer) for v in api.artifacts("model")] == [
        (1, bob_run), (0, alice_run)]
    assert [v.spec for v in api.run(bob_run).logged_artifacts()] == ["model:v1"]
