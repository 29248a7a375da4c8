"""Blobs, trees and commits, written in-process with pygit2 without touching HEAD or the index."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pygit2

from gittrack.atomic import fsync_dir, replacing
from gittrack.errors import FormatError, RepositoryError
from gittrack.formats.values import readable
from gittrack.git.repo import common_dir, fsync_enabled, writing
from gittrack.types import CommitId


@dataclasses.dataclass(frozen=True, slots=True)
class Existing:
    """A blob the repository has, put at a path of a new tree without reading it (a file
    moved to another folder)."""

    id: str


FileContent = bytes | Existing | None  # None deletes the path from the tree
Tree = pygit2.Tree
"""A commit's tree as the layers above hold it, between ``commit_tree`` and ``read_file``."""


def signature(repo: pygit2.Repository) -> pygit2.Signature:
    """The user's git identity, else ``GIT_AUTHOR_*``, else a neutral gittrack identity."""
    try:
        sig = repo.default_signature
        name, email = _text(sig.raw_name), _text(sig.raw_email)
    except (KeyError, pygit2.GitError):
        name = str(readable(os.environ.get("GIT_AUTHOR_NAME", "gittrack")))
        email = str(readable(os.environ.get("GIT_AUTHOR_EMAIL", "gittrack@localhost")))
    return pygit2.Signature(name, email, int(time.time()), _utc_offset_minutes())


def _text(raw: bytes) -> str:
    """A ``user.name`` or ``user.email`` that is not UTF-8 (pygit2 raised decoding it) as
    ``\\xNN`` text, like the other facts read from the system: commits stay UTF-8."""
    return str(readable(raw.decode("utf-8", "surrogateescape")))


def _utc_offset_minutes() -> int:
    local = time.localtime()
    return (local.tm_gmtoff or 0) // 60


def write_tree(
    repo: pygit2.Repository, base: pygit2.Tree | None, files: Mapping[str, FileContent]
) -> pygit2.Oid:
    """A tree equal to ``base`` with ``files`` ("dir/name" paths) added, replaced or removed."""
    by_dir: dict[str, dict[str, FileContent]] = {}
    for path, content in files.items():
        head, _, rest = path.partition("/")
        if rest:
            by_dir.setdefault(head, {})[rest] = content
        else:
            by_dir.setdefault("", {})[head] = content
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    for name, content in by_dir.pop("", {}).items():
        if content is None:
            if builder.get(name) is not None:
                builder.remove(name)
        elif isinstance(content, Existing):
            builder.insert(name, pygit2.Oid(hex=content.id), pygit2.enums.FileMode.BLOB)
        else:
            with writing(f"a blob of {len(content):,} bytes", objects_dir(repo)):
                blob = create_blob(repo, content)
            builder.insert(name, blob, pygit2.enums.FileMode.BLOB)
    for dirname, sub in by_dir.items():
        entry = base[dirname] if base is not None and dirname in base else None
        subtree = repo[entry.id] if entry is not None else None
        oid = write_tree(repo, subtree if isinstance(subtree, pygit2.Tree) else None, sub)
        if len(repo[oid]) == 0:  # type: ignore[arg-type]
            if builder.get(dirname) is not None:
                builder.remove(dirname)
        else:
            builder.insert(dirname, oid, pygit2.enums.FileMode.TREE)
    with writing("a tree", objects_dir(repo)):
        return builder.write()


def create_blob(repo: pygit2.Repository, content: bytes) -> pygit2.Oid:
    """``content`` stored as a blob; its id. ``OSError`` and ``pygit2.GitError`` pass through
    (callers wrap this in ``writing``).

    Written here, not by libgit2: pygit2 holds the GIL while libgit2 compresses, hashes and
    fsyncs a blob (for a history chunk, a checkpoint's rows of about 1 MB, tens of
    milliseconds, and each fsync as long as the disk takes), and every other thread stops
    meanwhile: the training loop calling ``log()`` while its run checkpoints. The blob is
    written as git writes a loose object (the zlib stream, level 1 as git's
    ``core.looseCompression`` default, of ``blob <size>\0<content>``, named by its SHA-1,
    read-only, renamed into place, fsynced with its folder if ``enable_fsync`` was called),
    with the GIL released while hashlib and zlib work on a large one and during every write
    and fsync."""
    header = b"blob %d\0" % len(content)
    digest = hashlib.sha1(header)
    digest.update(content)
    oid = pygit2.Oid(hex=digest.hexdigest())
    if repo.odb.exists(oid):
        return oid
    name = str(oid)
    path = objects_dir(repo) / name[:2] / name[2:]
    path.parent.mkdir(exist_ok=True)
    durable = fsync_enabled()
    with replacing(path) as temp:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            # compressed and written a piece at a time: a merged chunk of tens of MB is
            # never held twice more (compressed, then joined) at the peak of a long run
            compressor = zlib.compressobj(1)
            _write_all(fd, compressor.compress(header))
            content_view = memoryview(content)
            for start in range(0, len(content_view), _PIECE):
                _write_all(fd, compressor.compress(content_view[start:start + _PIECE]))
            _write_all(fd, compressor.flush())
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    if durable:
        fsync_dir(path.parent)
    return oid


_PIECE = 1 << 20
"""Bytes of a blob compressed at a time (``create_blob``)."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def objects_dir(repo: pygit2.Repository) -> Path:
    """Where objects are written: the common ``.git/objects``, also from a linked worktree."""
    return common_dir(repo) / "objects"


def commit(
    repo: pygit2.Repository, tree: pygit2.Oid, parents: list[CommitId], message: str
) -> CommitId:
    """A commit object (no ref is moved; see ``gittrack.git.refs``)."""
    sig = signature(repo)
    return _create_commit(repo, sig, sig, message, tree, parents)


def recommit(repo: pygit2.Repository, commit_id: CommitId, parents: list[CommitId],
             tree: pygit2.Oid | None = None, message: str | None = None) -> CommitId:
    """A copy of a commit on other ``parents`` (and optionally another ``tree`` and
    ``message``), with its author, committer and dates: the same inputs always give the same
    commit."""
    old = repo[commit_id]
    assert isinstance(old, pygit2.Commit)
    return _create_commit(repo, old.author, old.committer,
                          old.message if message is None else message,
                          tree if tree is not None else old.tree_id, parents)


def _create_commit(repo: pygit2.Repository, author: pygit2.Signature,
                   committer: pygit2.Signature, message: str, tree: pygit2.Oid,
                   parents: list[CommitId]) -> CommitId:
    with writing("a commit", objects_dir(repo)):
        oid = repo.create_commit(None, author, committer, message, tree,
                                 [pygit2.Oid(hex=p) for p in parents])
        # pygit2 1.21 returns the id of a commit it failed to write (a full disk, no error
        # raised): a ref moved to it would point at nothing.
        if oid not in repo.odb:
            raise pygit2.GitError("the commit object was not written")
    return CommitId(str(oid))


def commit_tree(repo: pygit2.Repository, commit_id: CommitId) -> pygit2.Tree:
    """The tree of a commit; ``FormatError`` when ``commit_id`` names another kind of object,
    ``RepositoryError`` when the commit or its tree is missing (a damaged or partial clone)."""
    obj = _commit(repo, commit_id)
    tree = _lookup(repo, str(obj.tree_id), f"the tree of commit {commit_id[:12]}")
    if not isinstance(tree, pygit2.Tree):
        raise FormatError(f"the tree of commit {commit_id[:12]} is a {tree.type_str}")
    return tree


def parent_ids(repo: pygit2.Repository, commit_id: CommitId) -> list[CommitId]:
    """The parents of a commit, first parent first; errors as ``commit_tree``."""
    return [CommitId(str(p)) for p in _commit(repo, commit_id).parent_ids]


def first_parent(repo: pygit2.Repository, commit_id: CommitId) -> CommitId | None:
    """The first parent of a commit, or ``None`` for a root; errors as ``commit_tree``."""
    parents = parent_ids(repo, commit_id)
    return parents[0] if parents else None


def _commit(repo: pygit2.Repository, commit_id: CommitId) -> pygit2.Commit:
    obj = _lookup(repo, commit_id, f"commit {commit_id[:12]}")
    if not isinstance(obj, pygit2.Commit):
        raise FormatError(f"{commit_id[:12]} is a {obj.type_str}, not a commit")
    return obj


def read_file(repo: pygit2.Repository, tree: pygit2.Tree, path: str) -> bytes | None:
    """The bytes at ``path`` in ``tree``, or ``None`` when there is no such file;
    ``FormatError`` when something else is there (a folder, a submodule), ``RepositoryError``
    naming ``path`` when its object is missing."""
    try:
        entry = tree[path]
    except KeyError:
        return None
    if entry.type_str != "blob":
        raise FormatError(f"{path} is a {entry.type_str}, not a file")
    try:
        _, data = repo.odb.read(entry.id)  # twice as fast as repo[id].data for large blobs
    except (KeyError, ValueError, pygit2.GitError):
        raise _missing(str(entry.id), path) from None
    return bytes(data)


def blob_id(data: bytes) -> str:
    """The id git gives a blob of ``data``, without writing it."""
    return str(pygit2.hash(data))


def blob_size(repo: pygit2.Repository, blob: str) -> int | None:
    """The size of blob ``blob`` from its header (a large blob is not inflated), or ``None``
    when it is missing or not a blob."""
    try:
        kind, size = repo.odb.read_header(blob)
    except (KeyError, ValueError, pygit2.GitError):
        return None
    return int(size) if kind == pygit2.enums.ObjectType.BLOB else None


def entry_id(tree: pygit2.Tree, path: str) -> str | None:
    """The object id of the file at ``path`` in ``tree`` without reading it, or ``None`` when
    there is no file there (nothing, or a folder)."""
    try:
        entry = tree[path]
    except KeyError:
        return None
    return str(entry.id) if entry.type_str == "blob" else None


def list_files(repo: pygit2.Repository, tree: pygit2.Tree, dirpath: str) -> Iterator[str]:
    """Names of the files directly in ``dirpath`` of ``tree``, sorted; none when there is no
    ``dirpath``, ``FormatError`` when it is not a folder."""
    try:
        entry = tree[dirpath]
    except KeyError:
        return iter(())
    sub = _lookup(repo, str(entry.id), dirpath)
    if not isinstance(sub, pygit2.Tree):
        raise FormatError(f"{dirpath} is a {sub.type_str}, not a folder")
    return iter(sorted(e.name for e in sub if e.type_str == "blob" and e.name is not None))


def new_files(repo: pygit2.Repository, tree: pygit2.Tree, dirpath: str,
              seen: set[str]) -> Iterator[tuple[str, str]]:
    """``(path, blob id)`` of every file under ``dirpath`` of ``tree`` (at any depth) that is
    not in a folder or file whose object id is in ``seen``; the ids visited are added to
    ``seen``. Over a walk of many commits that share most of a folder (checkpoints of one run),
    each folder and file is visited once, whatever the number of commits."""
    try:
        entry = tree[dirpath]
    except KeyError:
        return
    stack = [(dirpath, str(entry.id), entry.type_str)]
    while stack:
        path, oid, kind = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        if kind == "blob":
            yield path, oid
        elif kind == "tree":
            sub = _lookup(repo, oid, path)
            if isinstance(sub, pygit2.Tree):
                stack.extend((f"{path}/{e.name}", str(e.id), e.type_str) for e in sub
                             if e.name is not None)


def list_folders(repo: pygit2.Repository, tree: pygit2.Tree, dirpath: str) -> list[str]:
    """Names of the folders directly in ``dirpath`` of ``tree``, sorted; errors as
    ``list_files``."""
    try:
        entry = tree[dirpath]
    except KeyError:
        return []
    sub = _lookup(repo, str(entry.id), dirpath)
    if not isinstance(sub, pygit2.Tree):
        raise FormatError(f"{dirpath} is a {sub.type_str}, not a folder")
    return sorted(e.name for e in sub if e.type_str == "tree" and e.name is not None)


def _lookup(repo: pygit2.Repository, oid: str, what: str) -> pygit2.Object:
    try:
        return repo[oid]
    except (KeyError, ValueError, pygit2.GitError):  # missing, unreadable, or a malformed id
        raise _missing(oid, what) from None


def _missing(oid: str, what: str) -> RepositoryError:
    return RepositoryError(
        f"cannot read {what}: git object {oid} is missing or damaged (see `git fsck`)")
