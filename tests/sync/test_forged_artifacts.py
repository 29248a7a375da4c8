"""A malicious remote serves forged artifact refs: a clean clone pulls them, and every command
stays inside the repository and names the bad ref (issue 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pygit2
import pytest

import gittrack
from tests.helpers.forge_artifacts import DIGEST, forge, good_doc
from tests.helpers.repos import MakeClone, git
from tests.helpers.runs import log_run


def _manifest(path: str) -> bytes:
    table = pa.table({"path": [path], "digest": [DIGEST], "size": [1], "blob": [DIGEST],
                      "ref": pa.array([None], pa.string())})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def test_forged_artifacts_from_a_remote(bare_remote: Path, make_clone: MakeClone,
                                        team_clone: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        fast_settings: dict[str, object], cli: Any) -> None:
    assert cli("push").exit_code == 0
    evil = make_clone("evil", str(bare_remote))
    git(evil, "fetch", "-q", "origin", "refs/gittrack/*:refs/gittrack/*")
    repo = pygit2.Repository(str(evil))
    escape = tmp_path / "escaped"
    forge(repo, "model", good_doc(name=str(escape)))
    forge(repo, "up", good_doc(name="../../up"))
    forge(repo, "paths", good_doc(name="paths"), _manifest("../../escaped-file"))
    forge(repo, "nan", good_doc(version=-1, name="nan"))
    head = git(evil, "rev-parse", "HEAD").strip()
    git(evil, "update-ref", "refs/gittrack/artifacts/code", head)
    git(evil, "push", "-q", "origin", "refs/gittrack/*:refs/gittrack/*")

    victim = make_clone("victim", str(bare_remote))
    monkeypatch.chdir(victim)
    pulled = cli("pull")
    assert "internal error" not in pulled.stderr, pulled.stderr
    listed = cli("artifact", "ls")
    assert listed.exit_code == 0, listed.stderr
    # a forged manifest is read (and refused) only by what reads files: get, show
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["data", "paths"]
    for name in ("code", "model", "nan", "paths", "up"):
        if name != "paths":
            assert f"skipping refs/gittrack/artifacts/{name}:" in listed.stderr
        got = cli("artifact", "get", name)
        assert got.exit_code == 6 and f"refs/gittrack/artifacts/{name}" in got.stderr, got
    assert cli("artifact", "get", "data").exit_code == 0
    with pytest.warns(gittrack.GittrackWarning):
        assert [v.name for v in gittrack.Api(str(victim)).artifacts()] == ["data", "paths"]
    assert not escape.exists() and not list(tmp_path.glob("escaped*"))
    assert not (tmp_path / "up-v0").exists() and not (victim.parent / "up-v0").exists()
    assert sorted(p.name for p in (victim / "artifacts").iterdir()) == ["data-v0"]
    assert cli("runs").exit_code == 0
    log_run(victim, fast_settings, name="mine")  # the clone goes on working
    assert cli("push").exit_code == 0


def test_a_forged_version_on_a_diverged_chain(bare_remote: Path, make_clone: MakeClone,
                                              team_clone: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              fast_settings: dict[str, object],
                                              cli: Any) -> None:
    assert cli("push").exit_code == 0
    victim = make_clone("victim", str(bare_remote))
    monkeypatch.chdir(victim)
    assert cli("pull").exit_code == 0
    log_run(victim, fast_settings, data="4,5,6\n")  # data:v1, only here
    evil = make_clone("evil", str(bare_remote))
    git(evil, "fetch", "-q", "origin", "refs/gittrack/*:refs/gittrack/*")
    repo = pygit2.Repository(str(evil))
    v0 = git(evil, "rev-parse", "refs/gittrack/artifacts/data").strip()
    forge(repo, "data", good_doc(name=str(tmp_path / "escaped"), version=1), parents=[v0])
    git(evil, "push", "-q", "-f", "origin", "refs/gittrack/artifacts/data")
    pulled = cli("pull")
    assert "internal error" not in pulled.stderr and pulled.exit_code != 6, pulled
    assert cli("artifact", "get", "data").exit_code == 0  # ours, kept
    assert not (tmp_path / "escaped-v1").exists()
