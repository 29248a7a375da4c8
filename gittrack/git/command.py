"""The one runner of the ``git`` command line; each caller names the error its failure is.

gittrack runs ``git`` itself where libgit2 is not git: transport (push, fetch, ls-remote, with
the user's credentials and hooks: ``transport``), pruning objects (``prune``), writing the
config as git writes it, and questions only git answers (``rev-parse --git-path``). A failed
``git config`` is this repository's problem (``RepositoryError``, exit 3), a failed push the
remote's or the network's (``TransportError``, exit 10): the caller decides, the runner only
runs. Inherited ``GIT_*`` variables are scrubbed, except those that configure transport and
authentication: inside a git hook ``GIT_DIR``, ``GIT_INDEX_FILE`` and friends point at the
*calling* repository and would redirect our commands (https://git-scm.com/docs/githooks).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from gittrack.errors import GittrackError
from gittrack.formats.values import readable
from gittrack.git.repo import Repository, work_folder
from gittrack.urls import strip_credentials_in

# Kept from the environment: they choose how to connect and authenticate, not which repo.
_KEEP_EXACT = {"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_ASKPASS",
               "GIT_TERMINAL_PROMPT", "GIT_PROXY_COMMAND", "GIT_CURL_VERBOSE",
               "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
               "GIT_COMMITTER_EMAIL", "GIT_EXEC_PATH"}
_KEEP_PREFIXES = ("GIT_CONFIG", "GIT_TRACE", "GIT_SSL_", "GIT_HTTP_")


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: ``os.environ``) without the ``GIT_*`` variables that name a repo."""
    env = dict(os.environ if base is None else base)
    for name in list(env):
        if name.startswith("GIT_") and name not in _KEEP_EXACT \
                and not name.startswith(_KEEP_PREFIXES):
            del env[name]
    return env


def run(repo: Repository, args: Sequence[str], *, what: str, error: type[GittrackError],
        check: bool = True, stdin: str | None = None,
        git_dir: bool = False) -> subprocess.CompletedProcess[str]:
    """``git -C <work tree> args`` (``git_dir``: ``git --git-dir <.git> args``, for commands
    on the object database alone). Text in and out as git's bytes (``surrogateescape``: names
    that are not UTF-8 go back unchanged). Git that cannot start, or that fails when ``check``,
    raises ``error`` naming ``what`` and git's last lines (credentials stripped)."""
    where = ["--git-dir", repo.path] if git_dir else ["-C", work_folder(repo)]
    command = ["git", *where, *args]
    try:
        if stdin is None:
            done = subprocess.run(command, capture_output=True, text=True, env=git_env(),
                                  errors="surrogateescape", stdin=subprocess.DEVNULL,
                                  check=False)
        else:
            done = subprocess.run(command, capture_output=True, text=True, env=git_env(),
                                  errors="surrogateescape", input=stdin, check=False)
    except OSError as exc:
        raise error(f"{what}: cannot run git: {exc}") from None
    if check and done.returncode != 0:
        raise error(f"{what} failed: {clean(done.stderr)}")
    return done


def run_bytes(repo: Repository, args: Sequence[str], *, what: str, error: type[GittrackError],
              env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> bytes:
    """``git -C <work tree> args`` whose output is data, not text (``git diff --binary``,
    ``-z`` listings): its stdout as bytes. ``env``: variables set for this one command on top
    of the scrubbed environment (``GIT_INDEX_FILE`` of a temporary index). Failure raises
    ``error`` as ``run`` does."""
    command = ["git", "-C", work_folder(repo), *args]
    try:
        done = subprocess.run(command, capture_output=True, env={**git_env(), **(env or {})},
                              input=b"" if stdin is None else stdin, check=False)
    except OSError as exc:
        raise error(f"{what}: cannot run git: {exc}") from None
    if done.returncode != 0:
        raise error(f"{what} failed: {clean(done.stderr.decode('utf-8', 'surrogateescape'))}")
    return done.stdout


def clean(stderr: str) -> str:
    """git's last lines of ``stderr`` as one line for a message: printable, no credentials."""
    lines = [strip_credentials_in(str(readable(line))) for line in stderr.strip().splitlines()
             if line.strip()]
    return "; ".join(lines[-6:]) or "git gave no reason"
