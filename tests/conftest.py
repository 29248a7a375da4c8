"""Hermetic tests: every test gets its own HOME, git identity and (when asked) a real repo."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pygit2
import pytest
from hypothesis import settings as hypothesis_settings

import gittrack
from gittrack.api import session

# No per-example deadline: the first example pays for lazy imports (pyarrow), and CI machines
# are shared; a slow example is not a wrong one.
hypothesis_settings.register_profile("gittrack", deadline=None)
hypothesis_settings.load_profile("gittrack")


@pytest.fixture(autouse=True)
def hermetic(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    monkeypatch.setenv("GITTRACK_QUIET", "1")
    for var in ("GITTRACK_REPO", "GITTRACK_DEBUG", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = str(home)
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.XDG] = str(home / "xdg_config_home")
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.SYSTEM] = str(home / "system")
    yield
    for run in list(session._active):  # never leak a live run (and its thread) into the next test
        run.finish(quiet=True)
    session._active.clear()
    session._uncaught.clear()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if commit:
        (path / "train.py").write_text("print('hello')\n")
        git(path, "add", "train.py")
        git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real git repository with one commit, as the current directory."""
    path = make_repo(tmp_path / "project")
    monkeypatch.chdir(path)
    return path


FAST = {"checkpoint_interval": 0.2, "quiet": True}


@pytest.fixture
def fast_settings() -> dict[str, object]:
    return dict(FAST)


@dataclasses.dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the real `gittrack` entry point in-process; returns exit code and output."""
    from gittrack.cli.main import main

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke


def run_python(
    code: str, cwd: Path, *, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (for kill -9, fork and multi-process tests)."""
    env = dict(os.environ)
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-c", code], cwd=cwd, check=check, capture_output=True, text=True,
        env=env, **kwargs,
    )


__all__ = ["FAST", "CliResult", "git", "gittrack", "make_repo", "run_python"]
