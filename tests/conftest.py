"""Hermetic tests: every test gets its own HOME, git identity and (when asked) a real repo."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    proc: subprocess.Popen[bytes], port: int, what: str, log: Path | None = None
) -> None:
    """Wait until a server started by a fixture answers on 127.0.0.1:``port``."""
    def output() -> str:
        return log.read_text() if log is not None else ""

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer on port {port}:\n{output()}")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 API (moto's server) on 127.0.0.1, one per test session; yields its URL."""
    exe = shutil.which("moto_server")
    if exe is None:
        pytest.fail("moto_server not found: pip install 'moto[server]' (in the test extra)")
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    port = _free_port()
    # Credentials only in the child's environment: the tests pass theirs explicitly, and the
    # hermetic HOME means boto in this process never finds a real user's.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for_port(proc, port, "moto_server", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3_url(s3_server: str) -> tuple[str, dict[str, str]]:
    """A fresh, empty bucket on the session's S3 server: ``(url, options)`` for
    ``BlobStore.from_url(url, options)``. No ``region_name``: moto then rejects the bucket's
    LocationConstraint (see TESTING.md)."""
    import fsspec

    options = {"key": "testing", "secret": "testing", "endpoint_url": s3_server}
    bucket = f"gittrack-test-{uuid.uuid4().hex[:16]}"
    fsspec.filesystem("s3", **options).mkdir(bucket)
    return f"s3://{bucket}/store", options


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


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for this test (a disk it can fill); skipped where mounting is
    not allowed."""
    from tests.disks import tmpfs

    with tmpfs(tmp_path / "small-disk") as point:
        yield point


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
