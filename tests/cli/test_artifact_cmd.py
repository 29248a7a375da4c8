"""`gittrack artifact ls|show|get|alias|reencrypt`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from gittrack.artifacts.aliases import set_alias
from gittrack.git.repo import discover
from tests.helpers.big_artifacts import content, file_name, many_files, many_versions
from tests.helpers.cli import CliResult

Cli = Callable[..., CliResult]


@pytest.fixture
def logged(repo: Path, fast_settings: dict[str, object]) -> dict[str, str]:
    """data:v0 (alias best, used by a run), data:v1 (latest), model:v0."""
    (repo / "src").mkdir()
    with gittrack.init(name="maker", settings=fast_settings) as maker:
        for content in ("1,2\n", "3,4\n"):
            (repo / "src" / "train.csv").write_text(content)
            art = gittrack.Artifact("data", "dataset", description="numbers")
            art.add_dir(repo / "src")
            maker.log_artifact(art, aliases=["best"] if content == "1,2\n" else None)
        model = gittrack.Artifact("model", "model")
        model.add_file(repo / "src" / "train.csv", name="w.bin")
        maker.log_artifact(model)
    with gittrack.init(name="user", settings=fast_settings) as user:
        user.use_artifact("data:best")
    return {"maker": maker.id, "user": user.id}


def test_ls(cli: Cli, logged: dict[str, str]) -> None:
    result = cli("artifact", "ls")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "latest", "type", "aliases", "files", "size", "created"]
    assert lines[1].split()[:6] == ["data", "v1", "dataset", "best:v0", "1", "4"]
    assert lines[2].split()[:6] == ["model", "v0", "model", "-", "1", "4"]
    rows = json.loads(cli("artifact", "ls", "--json").stdout)
    assert rows[0]["aliases"] == {"best": "v0"} and rows[0]["producer"] == logged["maker"]


def test_ls_empty(cli: Cli, repo: Path) -> None:
    assert "no artifacts yet" in cli("artifact", "ls").stdout


def test_show(cli: Cli, logged: dict[str, str]) -> None:
    result = cli("artifact", "show", "data:best")
    out = result.stdout
    assert result.exit_code == 0, result.stderr
    assert out.startswith("artifact data:v0")
    assert "aliases      best" in out and f"{logged['maker']} (maker)" in out
    assert "train.csv" in out and "4 B" in out
    import hashlib

    assert hashlib.sha256(b"1,2\n").hexdigest() in out
    assert logged["user"] in out.split("used by")[1]
    latest = cli("artifact", "show", "data").stdout
    assert "aliases      latest" in latest and logged["user"] not in latest.split("used by")[1]


def test_show_json(cli: Cli, logged: dict[str, str]) -> None:
    doc = json.loads(cli("artifact", "show", "data:v0", "--json").stdout)
    assert doc["spec"] == "data:v0" and doc["aliases"] == ["best"]
    assert doc["files"][0]["path"] == "train.csv" and doc["files"][0]["size"] == 4
    assert doc["producer_run"]["name"] == "maker"
    assert [r["id"] for r in doc["consumers"]] == [logged["user"]]


def test_get(cli: Cli, logged: dict[str, str], tmp_path: Path) -> None:
    result = cli("artifact", "get", "data:v0", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0 and "data:v0: 1 file(s)" in result.stdout
    assert (tmp_path / "out" / "train.csv").read_text() == "1,2\n"
    assert cli("artifact", "get", "model").exit_code == 0
    assert (Path.cwd() / "artifacts" / "model-v0" / "w.bin").read_text() == "3,4\n"


def test_alias_moves(cli: Cli, logged: dict[str, str]) -> None:
    result = cli("artifact", "alias", "data:v1", "best")
    assert result.stdout.strip() == "data:best → data:v1 (moved from v0)"
    assert json.loads(cli("artifact", "show", "data:best", "--json").stdout)["version"] == 1
    assert cli("artifact", "alias", "data:v0", "prod").stdout.strip() == "data:prod → data:v0"
    assert cli("artifact", "alias", "data", "prod", "--delete").exit_code == 0
    assert cli("artifact", "show", "data:prod").exit_code == 4


def test_errors(cli: Cli, logged: dict[str, str]) -> None:
    unknown = cli("artifact", "show", "data:nope")
    assert unknown.exit_code == 4
    assert "no alias 'nope' (aliases: latest, best)" in unknown.stderr
    assert cli("artifact", "show", "nothing").exit_code == 4
    assert cli("artifact", "show", "a/b").exit_code == 2
    assert cli("artifact", "alias", "data:v0", "v2").exit_code == 2
    assert cli("artifact", "get", "data:v9").exit_code == 4


def test_run_show_lists_artifacts(cli: Cli, logged: dict[str, str]) -> None:
    out = cli("show", logged["user"]).stdout
    assert "artifacts" in out and "used" in out and "data:v0" in out


# -- forged or broken refs (as a malicious remote could serve them) --------------------------

def test_a_forged_name_never_chooses_where_get_writes(cli: Cli, logged: dict[str, str],
                                                      repo: Path, tmp_path: Path) -> None:
    import pygit2

    from tests.helpers.forge_artifacts import forge, good_doc

    git_repo = pygit2.Repository(str(repo))
    escape = tmp_path / "outside" / "dir"
    head = forge(git_repo, "model", good_doc(name=str(escape), version=1),
                 parents=[str(git_repo.references["refs/gittrack/artifacts/model"].target)])
    for args in (("artifact", "get", "model"), ("artifact", "get", "model:v1"),
                 ("artifact", "show", "model")):
        result = cli(*args)
        assert result.exit_code == 6, result.stderr
        assert "refs/gittrack/artifacts/model" in result.stderr and head[:12] in result.stderr
    assert not escape.parent.exists()
    assert not (repo / "artifacts").exists()
    forge(git_repo, "dots", good_doc(name="../../x"))
    assert cli("artifact", "get", "dots").exit_code == 6
    assert not (tmp_path / "x-v0").exists() and not (repo.parent / "x-v0").exists()


def test_one_bad_ref_does_not_hide_the_other_artifacts(cli: Cli, logged: dict[str, str],
                                                        repo: Path) -> None:
    import subprocess

    import pygit2

    from tests.helpers.forge_artifacts import forge, good_doc

    git_repo = pygit2.Repository(str(repo))
    forge(git_repo, "evil", good_doc(name="/tmp/evil"))
    forge(git_repo, "noyaml", None)
    forge(git_repo, "badyaml", b"name: [unclosed\n")
    run_commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                                text=True, check=True).stdout.strip()
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], input="x", cwd=repo,
                          capture_output=True, text=True, check=True).stdout.strip()
    for name, target in (("code", run_commit), ("blob", blob)):
        subprocess.run(["git", "update-ref", f"refs/gittrack/artifacts/{name}", target],
                       cwd=repo, check=True)
    subprocess.run(["git", "update-ref", "refs/gittrack/aliases/data/bad", blob], cwd=repo,
                   check=True)
    result = cli("artifact", "ls")
    assert result.exit_code == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["data", "model"]
    for name in ("evil", "noyaml", "badyaml", "code", "blob"):
        assert f"skipping refs/gittrack/artifacts/{name}:" in result.stderr
    assert "skipping refs/gittrack/aliases/data/bad:" in result.stderr
    assert [r["name"] for r in json.loads(cli("artifact", "ls", "--json").stdout)] == [
        "data", "model"]
    with pytest.warns(gittrack.GittrackWarning) as caught:
        assert [v.name for v in gittrack.Api(str(repo)).artifacts()] == ["data", "model"]
    assert sorted(str(w.message).split()[2] for w in caught) == [
        f"refs/gittrack/artifacts/{n}:" for n in ("badyaml", "blob", "code", "evil", "noyaml")]
    for name in ("evil", "noyaml", "badyaml", "code", "blob"):
        for command in ("show", "get"):
            bad = cli("artifact", command, name)
            assert bad.exit_code == 6, (name, command, bad.stderr)
            assert f"refs/gittrack/artifacts/{name}" in bad.stderr
            assert "internal error" not in bad.stderr
    for command in ("show", "get"):
        bad = cli("artifact", command, "data:bad")
        assert bad.exit_code == 6 and "refs/gittrack/aliases/data/bad" in bad.stderr, bad
    assert cli("artifact", "alias", "data:v0", "bad").exit_code == 0  # a bad alias can be fixed
    assert cli("artifact", "rm", "blob", "-y").exit_code == 0


# -- large artifacts: 200 versions, 20,000 files (issue 10) -----------------------------------

@pytest.fixture
def many_versions_repo(repo: Path, tmp_path: Path) -> list[str]:
    """``hist``: 200 versions, ``best`` on v7; returns the commits, oldest first."""
    made = many_versions(repo, "hist", 200, scratch=tmp_path)
    set_alias(discover(repo), "hist", "best", made[7].commit)
    return [info.commit for info in made]


def test_ls_name_lists_every_version_newest_first(cli: Cli,
                                                  many_versions_repo: list[str]) -> None:
    result = cli("artifact", "ls", "hist")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["version", "aliases", "files", "size", "created", "producer"]
    assert [line.split()[0] for line in lines[1:]] == [f"v{v}" for v in range(199, -1, -1)]
    assert lines[1].split()[1] == "latest" and lines[-8].split()[:2] == ["v7", "best"]
    rows = json.loads(cli("artifact", "ls", "hist", "--json").stdout)
    assert [r["commit"] for r in rows] == many_versions_repo[::-1]
    assert rows[0]["aliases"] == ["latest"] and rows[192]["aliases"] == ["best"]
    assert rows[5]["spec"] == "hist:v194" and rows[5]["files"] == 2
    assert cli("artifact", "ls", "nothing").exit_code == 4
    assert cli("artifact", "ls", "hist:v3").exit_code == 2


def test_show_and_get_among_many_versions(cli: Cli, many_versions_repo: list[str],
                                          tmp_path: Path) -> None:
    doc = json.loads(cli("artifact", "show", "hist:v3", "--json").stdout)
    assert doc["commit"] == many_versions_repo[3] and doc["file_count"] == 2
    assert cli("artifact", "get", "hist:best", "data.txt", "-o", str(tmp_path / "o")).exit_code \
        == 0
    assert (tmp_path / "o" / "data.txt").read_text() == "version 7\n"
    assert not (tmp_path / "o" / "fixed.txt").exists()


@pytest.fixture
def many_files_repo(repo: Path, tmp_path: Path) -> int:
    many_files(repo, "wide", 20_000, scratch=tmp_path, stored=[3, 15_001, 19_999])
    return 20_000


def test_show_lists_the_first_files_of_many(cli: Cli, many_files_repo: int) -> None:
    result = cli("artifact", "show", "wide")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "files        20000 (" in out
    listed = [line.split()[0] for line in out.split("\nfiles\n")[1].splitlines()
              if line.startswith("shard-")]
    assert listed == [file_name(i) for i in range(1000)]
    assert "... and 19,000 more files (--files N, --all)" in out
    few = cli("artifact", "show", "wide", "-n", "3").stdout
    assert file_name(2) in few and file_name(3) not in few and "19,997 more" in few
    doc = json.loads(cli("artifact", "show", "wide", "--json", "--files", "5").stdout)
    assert doc["file_count"] == 20_000 and [f["path"] for f in doc["files"]] == [
        file_name(i) for i in range(5)]
    every = json.loads(cli("artifact", "show", "wide", "--json", "--all").stdout)
    assert len(every["files"]) == 20_000 and every["files"][-1]["path"] == file_name(19_999)


def test_show_of_few_files_lists_them_all_as_before(cli: Cli, logged: dict[str, str]) -> None:
    out = cli("artifact", "show", "data").stdout
    assert "more files" not in out
    doc = json.loads(cli("artifact", "show", "data", "--json").stdout)
    assert doc["file_count"] == 1 and [f["path"] for f in doc["files"]] == ["train.csv"]


def test_get_one_file_of_many(cli: Cli, many_files_repo: int, repo: Path,
                              tmp_path: Path) -> None:
    result = cli("artifact", "get", "wide", file_name(15_001))
    assert result.exit_code == 0, result.stderr
    root = repo / "artifacts" / "wide-v0"
    assert result.stdout.strip() == f"wide:v0: 1 file(s), {len(content(15_001))} B in {root}"
    assert [p.relative_to(root).as_posix() for p in root.rglob("*.bin")] == [file_name(15_001)]
    two = cli("artifact", "get", "wide:v0", file_name(3), file_name(19_999), file_name(3),
              "-o", str(tmp_path / "out"))
    assert two.stdout.startswith("wide:v0: 2 file(s)")
    assert (tmp_path / "out" / file_name(19_999)).read_bytes() == content(19_999)
    missing = cli("artifact", "get", "wide", file_name(1), "nope", "-o", str(tmp_path / "o2"))
    assert missing.exit_code == 4 and "no file 'nope'" in missing.stderr
    assert not (tmp_path / "o2").exists()  # nothing downloaded before every file is found
