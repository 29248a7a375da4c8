"""A dirty work tree for the code-saving tests: every kind of change ``save_code`` must keep,
and an ignored secret it must never read."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from tests.helpers.repos import git

BINARY = bytes(range(256))


def make_dirty(repo: Path) -> bytes:
    """Change ``repo`` (made by ``make_repo``) in every way a patch must carry: a modified
    tracked file, a staged new file, a deleted tracked file, untracked text (in a folder, a
    name with a space and non-ASCII letters) and an untracked binary file (bytes 0..255),
    plus ``secret.env``, which ``.gitignore`` lists. Returns the secret's unique bytes."""
    (repo / "gone.txt").write_text("to be deleted\n")
    git(repo, "add", "gone.txt")
    git(repo, "commit", "-q", "-m", "a file to delete")
    (repo / "train.py").write_text("print('hello')\nprint('changed')\n")
    (repo / "staged.py").write_text("staged = True\n")
    git(repo, "add", "staged.py")
    (repo / "gone.txt").unlink()
    (repo / "notes").mkdir()
    (repo / "notes" / "new file ü.txt").write_text("new text\n")
    (repo / "data.bin").write_bytes(BINARY)
    (repo / ".gitignore").write_text("secret.env\n")
    secret = f"API_KEY=hunter2-{uuid.uuid4().hex}".encode()
    (repo / "secret.env").write_bytes(secret + b"\n")
    return secret


def work_files(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under ``root`` but ``.git``, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts
            and p.relative_to(root).as_posix() not in skip}


def all_git_objects(repo: Path) -> bytes:
    """The content of every object of ``repo`` (loose and packed), decompressed."""
    return subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo,
                          check=True, capture_output=True).stdout


def apply_on_clean_checkout(repo: Path, commit: str, patch: bytes, where: Path) -> Path:
    """A clone of ``repo`` at ``commit`` with ``patch`` applied by ``git apply``."""
    git(where.parent, "clone", "-q", "--no-checkout", str(repo), str(where))
    git(where, "checkout", "-q", commit)
    subprocess.run(["git", "apply", "--binary", "--whitespace=nowarn", "-"], cwd=where,
                   input=patch, check=True, capture_output=True)
    return where
