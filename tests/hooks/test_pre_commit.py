"""`.pre-commit-hooks.yaml` run by the real pre-commit framework in a temporary repository
whose config points at a committed copy of this checkout (uncommitted work included)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import gittrack
from tests.helpers.repos import MakeClone, git, refs_of
from tests.helpers.runs import log_run

PROJECT = Path(gittrack.__file__).resolve().parents[1]
_SKIP = shutil.ignore_patterns(".git", "__pycache__", ".mypy_cache", ".ruff_cache",
                               ".pytest_cache", "*.egg-info", ".venv", "build", "dist")


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """A git copy of the working tree at one commit, and a pre-commit home shared by the
    tests (it holds the hook's virtualenv). Yields ``(path, rev, pre-commit home)``."""
    if shutil.which("pre-commit") is None:
        pytest.fail("pre-commit is missing: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("precommit")
    copy = root / "gittrack-src"
    shutil.copytree(PROJECT, copy, ignore=_SKIP)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snap"]):
        subprocess.run(["git", *args], cwd=copy, check=True, env=env, capture_output=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=copy, check=True, text=True,
                         capture_output=True, env=env).stdout.strip()
    yield copy, rev, root / "home"


def configure(clone: Path, hooks: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch,
              *, stages: str) -> None:
    copy, rev, home = hooks
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home))
    # The hook's virtualenv sees the packages installed here, so pip downloads nothing but
    # the build backend: the test stays fast and needs no index for gittrack's dependencies.
    monkeypatch.setenv("VIRTUALENV_SYSTEM_SITE_PACKAGES", "1")
    (clone / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {copy}\n  rev: {rev}\n  hooks:\n"
        "  - id: gittrack-check-large-files\n    args: [--max-size, 1MB]\n"
        "  - id: gittrack-push\n"
    )
    subprocess.run(["pre-commit", "install", "-t", stages], cwd=clone, check=True,
                   capture_output=True)


@pytest.mark.slow
def test_large_files_are_refused_by_pre_commit(
        repo: Path, hooks_repo: tuple[Path, str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(repo, hooks_repo, monkeypatch, stages="pre-commit")
    git(repo, "add", ".pre-commit-config.yaml")
    (repo / "weights.bin").write_bytes(os.urandom(1_500_000))
    (repo / "notes.txt").write_text("small\n")
    git(repo, "add", "weights.bin", "notes.txt")
    done = subprocess.run(["git", "commit", "-m", "add data"], cwd=repo, capture_output=True,
                          text=True)
    assert done.returncode != 0, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "weights.bin (1.5 MB) is too large" in out and "gittrack.Artifact" in out
    git(repo, "rm", "-q", "--cached", "weights.bin")
    done = subprocess.run(["git", "commit", "-q", "-m", "notes"], cwd=repo, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_pre_push_hook_pushes_runs(bare_remote: Path, make_clone: MakeClone,
                                   hooks_repo: tuple[Path, str, Path],
                                   monkeypatch: pytest.MonkeyPatch,
                                   fast_settings: dict[str, object]) -> None:
    a = make_clone("a", str(bare_remote))
    configure(a, hooks_repo, monkeypatch, stages="pre-push")
    run = log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = subprocess.run(["git", "push", "origin", "main"], cwd=a, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(refs_of(bare_remote)) == {f"refs/gittrack/runs/{run}"}


@pytest.mark.slow
def test_a_failed_run_push_is_visible_under_pre_commit(
        served_remote: tuple[Path, str], make_clone: MakeClone,
        hooks_repo: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch,
        fast_settings: dict[str, object]) -> None:
    """Issue 13: pre-commit showed `Passed` and hid every gittrack warning. The remote
    rejects run refs (a server hook): the code push goes on and the warning is printed. Over
    the file transport and over ``git daemon``."""
    bare_remote, url = served_remote
    a = make_clone("a", url)
    hook = bare_remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nif grep -q ' refs/gittrack/'; then\n"
                    "  echo 'runs are not welcome here' >&2; exit 1\nfi\n")
    hook.chmod(0o755)
    configure(a, hooks_repo, monkeypatch, stages="pre-push")
    log_run(a, fast_settings, data=None)
    git(a, "commit", "-q", "--allow-empty", "-m", "more")
    done = subprocess.run(["git", "push", "origin", "main"], cwd=a, capture_output=True,
                          text=True)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "gittrack: warning: runs were not pushed" in out, out
    assert refs_of(bare_remote) == {}
    assert git(bare_remote, "rev-parse", "main") == git(a, "rev-parse", "HEAD")
