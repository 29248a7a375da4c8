"""External tools the crypto tests compare against: the `age` command line and `ssh-keygen`.

A test that needs one skips when it is missing on a developer's machine, but fails in CI
(``$CI`` set), where `.ci/run` installs them: interop must never be skipped silently there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGES = {"age": "age", "ssh-keygen": "openssh-client"}


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is not None:
        return path
    hint = f"apt-get install -y {PACKAGES.get(tool, tool)}"
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is not installed, and CI must not skip its tests: {hint}")
    pytest.skip(f"{tool} is not installed ({hint})")


def ssh_keypair(folder: Path, kind: str, *, passphrase: str = "") -> tuple[Path, str]:
    """A new SSH key made by ssh-keygen: (private key file, public key line)."""
    key = folder / f"id_{kind}"
    size = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(
        [require("ssh-keygen"), "-q", "-t", kind, *size, "-N", passphrase, "-C",
         f"{kind}@test", "-f", str(key)],
        check=True, capture_output=True,
    )
    return key, key.with_name(key.name + ".pub").read_text().strip()


def age_cli(*args: str, stdin: bytes | None = None) -> bytes:
    """Run the real `age` command line; its stdout."""
    done = subprocess.run([require("age"), *args], input=stdin, check=True,
                          capture_output=True)
    return done.stdout


def tree_contains(root: Path, needle: bytes) -> list[Path]:
    """Files under ``root`` (all of it, .git included) whose bytes contain ``needle``."""
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
