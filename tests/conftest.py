"""Hermetic tests: every test gets its own HOME, git identity and (when asked) a real repo.

Fixtures only; what they do lives in ``tests/helpers`` (import helpers from there, never from a
conftest)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pygit2
import pytest
from hypothesis import settings as hypothesis_settings

from gittrack.api import session
from gittrack.crypto.age import generate_identity
from gittrack.crypto.keys import Keyring, ProjectKeys, init_user_identity
from gittrack.runs import console
from gittrack.storage.vault import BlobVault
from tests.helpers import repos, servers, storage
from tests.helpers.cli import CliResult, invoker
from tests.helpers.repos import MakeClone, ServeRemote, make_repo
from tests.helpers.runs import FAST
from tests.helpers.storage import Location, MakeStorage, new_storage

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
    console.stop_all()  # a run left unfinished must not keep capturing the next test's output


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real git repository with one commit, as the current directory."""
    path = make_repo(tmp_path / "project")
    monkeypatch.chdir(path)
    return path


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 API (moto's server) on 127.0.0.1, one per test session; yields its URL."""
    if shutil.which("moto_server") is None:
        pytest.fail("moto_server not found: pip install 'moto[server]' (in the test extra)")
    # Credentials only in the child's environment: the tests pass theirs explicitly, and the
    # hermetic HOME means boto in this process never finds a real user's.
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with servers.moto_server(log, {**os.environ, **servers.MOTO_ENV}) as url:
        yield url


@pytest.fixture
def s3_url(s3_server: str) -> storage.Location:
    """A fresh, empty bucket on the session's S3 server: ``(url, options)`` for
    ``BlobStore.from_url(url, options)``."""
    return storage.s3_bucket(s3_server)


@pytest.fixture(params=storage.BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[storage.Location]:
    """``(url, options)`` of a fresh, empty store on each backend (the blob and artifact
    tests' one backend fixture)."""
    with storage.backend(request.param, tmp_path,
                         lambda: request.getfixturevalue("s3_url")) as where:
        yield where


@pytest.fixture
def fast_settings() -> dict[str, object]:
    return dict(FAST)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the real `gittrack` entry point in-process; returns exit code and output."""
    return invoker(capsys)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for this test (a disk it can fill); skipped where mounting is
    not allowed."""
    from tests.helpers.disks import tmpfs

    with tmpfs(tmp_path / "small-disk") as point:
        yield point


# -- real git remotes: a bare repository by path, `git daemon` (git://), sshd ---------------
@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository, used by path."""
    return repos.bare(tmp_path / "remote.git")


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """``git daemon`` on 127.0.0.1 serving every repository under its base path, pushes
    allowed (no authentication: loopback only). Yields ``(base, port)``."""
    base = tmp_path_factory.mktemp("daemon")
    with servers.git_daemon(base) as port:
        yield base, port


@pytest.fixture
def daemon_remote(git_daemon: tuple[Path, int]) -> str:
    base, port = git_daemon
    name = f"r-{uuid.uuid4().hex[:10]}.git"
    repos.bare(base / name)
    return f"git://127.0.0.1:{port}/{name}"


@pytest.fixture(params=["file", "daemon"])
def serve_remote(request: pytest.FixtureRequest, tmp_path: Path) -> ServeRemote:
    """``serve_remote()``: a new empty bare repository on each call and the URL clones use,
    all over one transport: ``file://`` (git over the file transport) or ``git://`` (``git
    daemon``); a test taking it runs over both. Returns ``(server path, url)``: the path is
    for server-side hooks and checks. For tests with two remotes (origin and a fork)."""

    def serve() -> tuple[Path, str]:
        name = f"r-{uuid.uuid4().hex[:10]}.git"
        if request.param == "daemon":
            base, port = request.getfixturevalue("git_daemon")
            return repos.bare(base / name), f"git://127.0.0.1:{port}/{name}"
        path = repos.bare(tmp_path / name)
        return path, "file://" + str(path)

    return serve


@pytest.fixture
def served_remote(serve_remote: ServeRemote) -> tuple[Path, str]:
    """An empty bare repository and the URL clones use, over the file transport and over
    ``git daemon`` (``serve_remote``); ``(server path, url)``."""
    return serve_remote()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    """sshd on 127.0.0.1 with its own host key, accepting one client key made here.
    Yields ``(port, client key, known_hosts)``. Skips when sshd is not installed, except in
    CI (``.ci/run`` installs it)."""
    exe = servers.sshd_exe()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("sshd is missing: apt-get install -y openssh-server (see .ci/run)")
        pytest.skip("sshd is not installed (apt-get install -y openssh-server)")
    if os.geteuid() != 0:
        pytest.skip("sshd needs root to switch to the test user here")
    with servers.sshd(exe, tmp_path_factory.mktemp("sshd")) as running:
        yield running


@pytest.fixture
def ssh_remote(sshd: tuple[int, Path, Path], tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> str:
    port, key, known = sshd
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -i {key} -o IdentitiesOnly=yes "
                       f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes")
    path = repos.bare(tmp_path / "ssh-remote.git")
    return f"ssh://root@127.0.0.1:{port}{path}"


@pytest.fixture
def make_clone(tmp_path: Path) -> MakeClone:
    """``make_clone(name, remote_url)``: a working repository with ``origin`` = the remote,
    its code pushed (first clone) or cloned (later ones)."""
    return lambda name, url: repos.make_clone(tmp_path / name, url)


# -- artifact storage on the backends above, public and private (tests/artifacts, tests/storage)

@pytest.fixture
def project_keys() -> ProjectKeys:
    return ProjectKeys.from_secrets([generate_identity()[0]])


@pytest.fixture
def make_storage(tmp_path: Path) -> MakeStorage:
    """``make_storage(location, keys=None, workers=4)``: storage with its own caches."""

    def make(where: Location, keys: ProjectKeys | None = None, workers: int = 4,
             state: Path | None = None) -> BlobVault:
        return new_storage(where, state or tmp_path / f"state-{uuid.uuid4().hex[:8]}", keys,
                           workers)

    return make


@pytest.fixture(params=["public", "private"])
def privacy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def git_repo(repo: Path) -> pygit2.Repository:
    return pygit2.Repository(str(repo))


@pytest.fixture
def private_repo(git_repo: pygit2.Repository) -> pygit2.Repository:
    """The ``repo`` fixture with a keyring whose only member is the test's user (whose
    identity file lives in the temporary HOME)."""
    public, _, _ = init_user_identity()
    Keyring.for_repo(git_repo).init("me", public)
    return git_repo
