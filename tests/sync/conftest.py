"""Real git remotes on this machine: a bare repository by path, a `git daemon` (git://) with
receive-pack, and sshd on 127.0.0.1 when it can be started; clones that use them."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import _free_port, git, make_repo, wait_for_port

Remote = Callable[[], str]


def bare(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "--bare", "-b", "main")
    return path


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository, used by path."""
    return bare(tmp_path / "remote.git")


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """``git daemon`` on 127.0.0.1 serving every repository under its base path, pushes
    allowed (no authentication: loopback only). Yields ``(base, port)``."""
    base = tmp_path_factory.mktemp("daemon")
    port = _free_port()
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
         f"--base-path={base}", "--export-all", "--enable=receive-pack", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait(port, proc)
        yield base, port
    finally:
        _stop(proc)


@pytest.fixture
def daemon_remote(git_daemon: tuple[Path, int]) -> str:
    base, port = git_daemon
    name = f"r-{uuid.uuid4().hex[:10]}.git"
    bare(base / name)
    return f"git://127.0.0.1:{port}/{name}"


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    wait_for_port(proc, port, "server")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    """sshd on 127.0.0.1 with its own host key, accepting one client key made here.
    Yields ``(port, client key, known_hosts)``. Skips when sshd is not installed, except in
    CI (``.ci/run`` installs it)."""
    exe = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("sshd is missing: apt-get install -y openssh-server (see .ci/run)")
        pytest.skip("sshd is not installed (apt-get install -y openssh-server)")
    if os.geteuid() != 0:
        pytest.skip("sshd needs root to switch to the test user here")
    root = tmp_path_factory.mktemp("sshd")
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)],
                       check=True)
    port = _free_port()
    (root / "authorized_keys").write_text((root / "client.pub").read_text())
    os.chmod(root, 0o700)
    config = root / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPasswordAuthentication no\n"
        f"PidFile {root / 'sshd.pid'}\nStrictModes no\nUsePAM no\nPermitRootLogin yes\n"
        "SetEnv GIT_CONFIG_NOSYSTEM=1\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen([exe, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait(port, proc)
        known = root / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {(root / 'host.pub').read_text()}")
        yield port, root / "client", known
    finally:
        _stop(proc)


@pytest.fixture
def ssh_remote(sshd: tuple[int, Path, Path], tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> str:
    port, key, known = sshd
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -i {key} -o IdentitiesOnly=yes "
                       f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes")
    path = bare(tmp_path / "ssh-remote.git")
    return f"ssh://root@127.0.0.1:{port}{path}"


MakeClone = Callable[[str, str], Path]


@pytest.fixture
def make_clone(tmp_path: Path) -> MakeClone:
    """``make_clone(name, remote_url)``: a working repository with ``origin`` = the remote,
    its code pushed (first clone) or cloned (later ones)."""

    def make(name: str, url: str) -> Path:
        path = tmp_path / name
        heads = git(tmp_path, "ls-remote", "--heads", url) if url else ""
        if heads.strip():
            git(tmp_path, "clone", "-q", url, str(path))
            return path
        make_repo(path)
        git(path, "remote", "add", "origin", url)
        git(path, "push", "-q", "-u", "origin", "main")
        return path

    return make




__all__ = ["MakeClone", "bare"]
