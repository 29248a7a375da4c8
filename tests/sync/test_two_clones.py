"""The two-clone story end to end: A logs and pushes, B pulls, uses, logs and pushes, A pulls
and sees the lineage; over a path remote with a folder store and with S3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.repos import MakeClone, refs_of
from tests.helpers.runs import log_run
from tests.helpers.storage import share_backend


def ok(result: CliResult) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_two_clones(backend: str, bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object],
                    cli: Any, request: pytest.FixtureRequest) -> None:
    a = make_clone("a", str(bare_remote))
    share_backend(a, backend, tmp_path, lambda: request.getfixturevalue("s3_url"))
    maker = log_run(a, fast_settings, data="x,y\n1,2\n")

    monkeypatch.chdir(a)
    out = ok(cli("push"))
    assert "sent 1 run, 1 artifact, 1 alias" in out
    assert "uploaded" not in out  # logging stored the blob already
    assert "up to date" in ok(cli("push"))  # the no-op push: nothing re-sent or re-uploaded

    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert "updated 1 run, 1 artifact, 1 alias" in ok(cli("pull"))
    assert refs_of(b) == refs_of(a)
    history_a = gittrack.Api(str(a)).run(maker).history()
    assert gittrack.Api(str(b)).run(maker).history().equals(history_a)

    with gittrack.init(repo=str(b), settings=fast_settings) as user:
        version = user.use_artifact("data:best")
        assert version.path("data.csv").read_text() == "x,y\n1,2\n"
        user.log({"acc": 0.9})
    assert "sent 1 run" in ok(cli("push"))

    monkeypatch.chdir(a)
    assert "updated 1 run" in ok(cli("pull"))
    api = gittrack.Api(str(a))
    assert [r.id for r in api.used_by("data:best")] == [user.id]
    assert api.logged_by("data:v0").id == maker  # type: ignore[union-attr]


def test_pull_artifacts_eagerly(bare_remote: Path, make_clone: MakeClone, team_clone: Path,
                                monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert "downloaded 1 blob" in ok(cli("pull", "--artifacts"))
    cache = b / ".git" / "gittrack" / "cache" / "blobs"
    assert len([p for p in cache.rglob("*") if p.is_file()]) == 1


def test_default_local_store_says_teammates_cannot_reach_it(
        bare_remote: Path, make_clone: MakeClone, monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    log_run(a, fast_settings)
    monkeypatch.chdir(a)
    out = ok(cli("push"))
    assert out.count("teammates cannot reach") == 1 and "sent 1 run" in out
