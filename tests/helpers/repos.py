"""Real git repositories in temporary folders: make one, a bare remote, a clone; read refs and
objects back with plain git."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pygit2

from gittrack.git import objects, refs
from gittrack.types import CommitId, RefName

RUNS = "refs/gittrack/runs/"
CODE = "refs/gittrack/code/"
MakeClone = Callable[[str, str], Path]
ServeRemote = Callable[[], tuple[Path, str]]  # conftest's serve_remote: (server path, url)
"""The ``make_clone`` fixture: ``make_clone(name, remote_url)``."""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path, *, commit: bool = True) -> Path:
    """A repository on branch ``main`` with one commit (``train.py``) unless ``commit=False``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if commit:
        (path / "train.py").write_text("print('hello')\n")
        git(path, "add", "train.py")
        git(path, "commit", "-q", "-m", "initial")
    return path


def bare(path: Path, branch: str | None = "main") -> Path:
    """An empty bare repository at ``path`` (``HEAD`` on ``branch``, or git's default)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "--bare", *(["-b", branch] if branch else []))
    return path


def make_clone(path: Path, url: str) -> Path:
    """A working repository at ``path`` with ``origin`` = ``url``: cloned when the remote has
    branches, else made here and its code pushed."""
    heads = git(path.parent, "ls-remote", "--heads", url) if url else ""
    if heads.strip():
        git(path.parent, "clone", "-q", url, str(path))
        return path
    make_repo(path)
    git(path, "remote", "add", "origin", url)
    git(path, "push", "-q", "-u", "origin", "main")
    return path


def add_bare_remote(repo: Path, name: str = "origin") -> Path:
    """A new bare repository beside ``repo``, added as its remote ``name``."""
    path = bare(repo.parent / f"{name}-{uuid.uuid4().hex[:6]}.git", branch=None)
    git(repo, "remote", "add", name, str(path))
    return path


def push_all(repo: Path, remote: str = "origin") -> None:
    git(repo, "push", "-q", remote, "+refs/gittrack/*:refs/gittrack/*")


def refs_of(path: Path, prefix: str = "refs/gittrack/", *,
            code: bool = False) -> dict[str, str]:
    """``{ref name: object id}`` of the refs under ``prefix``; the code refs of runs
    (``refs/gittrack/code/``, ``runs/coderefs.py``) only with ``code`` or a prefix in them."""
    out = git(path, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
    found = dict(line.split(" ", 1)[::-1][::-1] for line in out.splitlines())
    if code or prefix.startswith(CODE):
        return found
    return {ref: sha for ref, sha in found.items() if not ref.startswith(CODE)}


def unique_objects(repo: Path, ref: str) -> list[str]:
    """Objects ``ref`` reaches that no other ref does (exactly: two full listings)."""
    others = [r for r in git(repo, "for-each-ref", "--format=%(refname)").split() if r != ref]
    mine = git(repo, "rev-list", "--objects", "--no-object-names", ref).split()
    theirs = set(git(repo, "rev-list", "--objects", "--no-object-names", *others).split())
    return [oid for oid in mine if oid not in theirs]


def has_object(repo: Path, oid: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", oid], cwd=repo,
                          capture_output=True).returncode == 0


def all_objects(repo: Path) -> bytes:
    """Every object in the database (loose or packed, reachable or not), uncompressed: git
    compresses objects, so a plain search of ``.git`` could miss one."""
    return subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo,
                          capture_output=True, check=True).stdout


def objects_containing(repo: Path, text: str) -> int:
    """How many objects (loose or packed, reachable or not) contain ``text``."""
    return all_objects(repo).count(text.encode())


def git_objects_contain(repo: Path, needle: bytes) -> bool:
    """Whether any object in the repository's database (loose or packed) contains ``needle``."""
    return needle in all_objects(repo)


def fake_runs(clone: Path, count: int) -> dict[str, str]:
    """``count`` run refs, each a one-commit chain with its own content (push and pull read
    no run files), written in one transaction."""
    repo = pygit2.Repository(str(clone))
    made: dict[str, str] = {}
    for i in range(count):
        tree = objects.write_tree(repo, None, {"run.yaml": f"id: r{i:04d}\n".encode()})
        made[f"{RUNS}r{i:04d}"] = objects.commit(repo, tree, [], f"run {i}")
    assert refs.update_refs(repo, [refs.RefUpdate(RefName(r), CommitId(s))
                                   for r, s in made.items()]) == ()
    return made


def advance(clone: Path, ref: str, text: str) -> str:
    """One more checkpoint on ``ref`` (a commit on top of its head)."""
    repo = pygit2.Repository(str(clone))
    head = refs.get_ref(repo, RefName(ref))
    assert head is not None
    tree = objects.write_tree(repo, None, {"run.yaml": text.encode()})
    new = objects.commit(repo, tree, [head], text)
    refs.update_ref(repo, RefName(ref), new, head)
    return new


def mirror_fetch(repo: Path, remote: str = "origin") -> None:
    git(repo, "fetch", "-q", remote, f"+refs/gittrack/*:refs/gittrack-remotes/{remote}/*")
