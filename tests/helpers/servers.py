"""Real servers on 127.0.0.1 for tests and bench: moto's S3 API, ``git daemon`` and sshd.

Started on a free port, waited for until they answer, stopped by process id. No pytest here:
``bench`` imports this module too (the fixtures in ``tests/conftest.py`` and
``tests/sync/conftest.py`` wrap it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

HOST = "127.0.0.1"
# Credentials only in the server's environment: clients pass theirs explicitly.
MOTO_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    """A port nothing listens on (closed again on return), for a server to take."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_answers(proc: subprocess.Popen[bytes], port: int, seconds: float) -> bool:
    """Whether ``proc`` listens on ``port`` within ``seconds`` (False if it exits first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_for_port(proc: subprocess.Popen[bytes], port: int, what: str,
                  log: Path | None = None, seconds: float = 30) -> None:
    """Wait until ``proc`` answers on ``HOST:port``; RuntimeError (with its log) if not."""
    if port_answers(proc, port, seconds):
        return
    output = log.read_text() if log is not None and log.exists() else ""
    if proc.poll() is not None:
        raise RuntimeError(f"{what} exited with {proc.returncode}:\n{output}")
    raise RuntimeError(f"{what} did not answer on port {port}:\n{output}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start(argv: Sequence[str], port: int, what: str, *, log: Path | None = None,
          env: Mapping[str, str] | None = None, seconds: float = 30) -> subprocess.Popen[bytes]:
    """Start ``argv`` (output appended to ``log``, or dropped) and wait until it answers on
    ``port``; stopped again, and RuntimeError, if it does not."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT,
                                env=dict(env) if env is not None else None)
    try:
        wait_for_port(proc, port, what, log, seconds)
    except RuntimeError:
        stop(proc)
        raise
    return proc


@contextlib.contextmanager
def running(argv: Sequence[str], port: int, what: str, *, log: Path | None = None,
            env: Mapping[str, str] | None = None,
            seconds: float = 30) -> Iterator[subprocess.Popen[bytes]]:
    proc = start(argv, port, what, log=log, env=env, seconds=seconds)
    try:
        yield proc
    finally:
        stop(proc)


def moto_argv(port: int) -> list[str]:
    exe = shutil.which("moto_server")
    if exe is None:
        raise RuntimeError("moto_server not found: pip install 'moto[server]' (in the test "
                           "extra)")
    return [exe, "-H", HOST, "-p", str(port)]


def start_moto(port: int, log: Path, env: Mapping[str, str] | None = None,
               seconds: float = 30) -> subprocess.Popen[bytes]:
    """moto's S3 server on ``HOST:port`` (``env`` defaults to ours plus ``MOTO_ENV``)."""
    env = env if env is not None else {**os.environ, **MOTO_ENV}
    return start(moto_argv(port), port, "moto_server", log=log, env=env, seconds=seconds)


@contextlib.contextmanager
def moto_server(log: Path, env: Mapping[str, str] | None = None,
                seconds: float = 30) -> Iterator[str]:
    """moto's S3 server on a free port; yields its URL, stopped on the way out."""
    port = free_port()
    proc = start_moto(port, log, env, seconds)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        stop(proc)


@contextlib.contextmanager
def git_daemon(base: Path, env: Mapping[str, str] | None = None, seconds: float = 30, *,
               access_hook: Path | None = None) -> Iterator[int]:
    """``git daemon`` serving every repository under ``base``, pushes allowed (no
    authentication: loopback only); yields its port. ``access_hook`` runs before each
    service (``git daemon --access-hook``: service name and repository path as arguments)."""
    port = free_port()
    argv = ["git", "daemon", "--reuseaddr", f"--listen={HOST}", f"--port={port}",
            f"--base-path={base}", "--export-all", "--enable=receive-pack",
            *([f"--access-hook={access_hook}"] if access_hook is not None else []), str(base)]
    with running(argv, port, "git daemon", env=env, seconds=seconds):
        yield port


def sshd_exe() -> str | None:
    fallback = Path("/usr/sbin/sshd")
    return shutil.which("sshd") or (str(fallback) if fallback.exists() else None)


@contextlib.contextmanager
def sshd(exe: str, root: Path) -> Iterator[tuple[int, Path, Path]]:
    """sshd on ``HOST`` with its own host key (in ``root``), accepting one client key made
    here. Yields ``(port, client key, known_hosts)``. sshd must run as root."""
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)],
                       check=True)
    port = free_port()
    (root / "authorized_keys").write_text((root / "client.pub").read_text())
    os.chmod(root, 0o700)
    config = root / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress {HOST}\nHostKey {root / 'host'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPasswordAuthentication no\n"
        f"PidFile {root / 'sshd.pid'}\nStrictModes no\nUsePAM no\nPermitRootLogin yes\n"
        "SetEnv GIT_CONFIG_NOSYSTEM=1\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    with running([exe, "-D", "-e", "-f", str(config)], port, "sshd"):
        known = root / "known_hosts"
        known.write_text(f"[{HOST}]:{port} {(root / 'host.pub').read_text()}")
        yield port, root / "client", known
