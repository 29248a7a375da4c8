"""The sync commands' writes to this repository, their failures said in gittrack's terms.

A full disk, a read-only ``.git`` or a file in the way is an ``OSError`` deep in a write; a
command must not end on it as an internal error. Each write here names the file and the
reason (``os.write`` on a full disk names no file: the caller's ``path`` does) and what was
left as it was, as a ``RepositoryError`` (exit 3). Store writes have their own conversion
(``blobs/backends.py``: ``StorageError``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from gittrack.errors import RepositoryError
from gittrack.git import refs
from gittrack.git.repo import Repository, common_dir, ensure_writable_dir


@contextlib.contextmanager
def repository_io(path: Path, outcome: str) -> Iterator[None]:
    """An ``OSError`` in the block → ``RepositoryError`` naming the file (``path`` when the
    error names none), the reason, and ``outcome`` (what the user finds afterwards)."""
    try:
        yield
    except OSError as exc:
        raise RepositoryError(f"cannot write {exc.filename or path}: {exc.strerror or exc}; "
                              f"{outcome}") from None


def write_refs(repo: Repository, updates: Sequence[refs.RefUpdate],
               outcome: str = "no ref was changed") -> tuple[refs.RefUpdate, ...]:
    """``refs.update_refs`` (one transaction: all or none), its ``OSError`` a
    ``RepositoryError`` naming ``packed-refs``."""
    with repository_io(common_dir(repo) / "packed-refs", outcome):
        return refs.update_refs(repo, updates)


def check_writable(repo: Repository, before: str) -> None:
    """Refuse now, ``before`` anything changes elsewhere (the remote, the store), a ``.git``
    this process cannot write (read-only file system, permissions): the two sides would
    otherwise be left apart."""
    try:
        ensure_writable_dir(common_dir(repo) / "gittrack")
    except RepositoryError as exc:
        raise RepositoryError(f"{exc}; nothing was changed {before}") from None
