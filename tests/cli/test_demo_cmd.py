from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.repos import git

Cli = Callable[..., CliResult]


def test_demo_trains_shows_and_deletes_its_repository(repo: Path, cli: Cli) -> None:
    result = cli("demo", "--steps", "60")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    where = re.search(r"a throwaway git repository in (\S+)", out)
    assert where is not None
    assert not Path(where.group(1)).exists()
    assert "$ gittrack runs" in out and "$ gittrack show " in out
    runs_header = out.split("$ gittrack runs\n")[1].splitlines()[0].split()
    assert runs_header[7:] == ["val/acc.max", "val/loss", "train/loss"]
    assert "weights/hidden  histogram[64]" in out
    assert "has been deleted" in out
    assert git(repo, "for-each-ref", "refs/gittrack") == ""  # the user's repo is untouched


def test_demo_in_a_folder_keeps_it(repo: Path, tmp_path: Path, cli: Cli) -> None:
    target = tmp_path / "demo" / "here"
    result = cli("demo", "--dir", str(target), "--steps", "51")
    assert result.exit_code == 0, result.stderr
    assert f"The demo repository is at {target}" in result.stdout
    assert f"rm -rf {target}" in result.stdout
    [view] = gittrack.Api(target).runs()
    assert view.state == "finished"
    assert view.config["lr"] == 0.5 and view.metadata["steps"] == 51
    assert view.tags == ["demo"] and view.project == "gittrack-demo"
    history = view.history()
    assert list(history["_step"]) == list(range(51))
    assert history["train/loss"].notna().all() and history["val/acc"].notna().sum() == 6
    assert 0.0 <= view.summary["val/acc"]["max"] <= 1.0
    assert sorted(view.histograms("weights/hidden")["_step"]) == [0, 25, 50]
    assert view.metadata["code"]["commit"] == git(target, "rev-parse", "HEAD").strip()
    assert git(repo, "for-each-ref", "refs/gittrack") == ""


def test_demo_learns_something(tmp_path: Path, cli: Cli) -> None:
    assert cli("demo", "--dir", str(tmp_path / "d")).exit_code == 0
    [view] = gittrack.Api(tmp_path / "d").runs()
    history = view.history()
    assert view.summary["val/acc"]["max"] > 0.8
    assert history["train/loss"].tail(50).mean() < history["train/loss"].head(50).mean()


def test_keep_keeps_the_temporary_repository(repo: Path, cli: Cli) -> None:
    out = cli("demo", "--steps", "5", "--keep").stdout
    where = re.search(r"The demo repository is at (\S+)\. Try:", out)
    assert where is not None
    path = Path(where.group(1))
    assert (path / ".git").is_dir()
    assert len(gittrack.Api(path).runs()) == 1
    import shutil

    shutil.rmtree(path)


def test_demo_needs_no_git_identity_and_ignores_git_env(
    repo: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))  # a naive `git init` would go there
    (Path.home() / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n"
                                            "[commit]\n\tgpgsign = true\n")
    before = git(repo, "rev-list", "--all")
    result = cli("demo", "--dir", str(tmp_path / "d"), "--steps", "3")
    assert result.exit_code == 0, result.stderr
    monkeypatch.delenv("GIT_DIR")
    assert git(repo, "rev-list", "--all") == before
    author = git(tmp_path / "d", "log", "--format=%an <%ae>")
    assert author == "gittrack demo <demo@gittrack.invalid>\n"


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "file").write_text("mine")
    result = cli("demo", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "is not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_steps_must_be_positive(cli: Cli) -> None:
    assert cli("demo", "--steps", "0").exit_code == 2
