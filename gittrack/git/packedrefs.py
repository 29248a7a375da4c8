"""Many refs in one transaction on ``packed-refs``, the file git itself keeps refs in after
``git pack-refs`` or a clone: the mechanism under ``refs.update_refs``.

Writing a loose ref is a file created, written and renamed, and on a busy disk 1,000 of them
took 1–3 s here; one rewrite of ``packed-refs`` with the same 1,000 refs took under 10 ms. The
protocol is git's own (``refs/files-backend.c``): ``packed-refs.lock`` is created exclusively
(a concurrent git or libgit2 waits or fails, as with git) and held to the end; every ref that
also has a loose file is locked (``<ref>.lock``) and compared under its lock; the new file is
written beside the lock, fsynced and renamed over ``packed-refs``; then the loose files of the
refs it now holds are removed — still under ``packed-refs.lock``, or a ``git pack-refs``
(``git gc --auto``) could pack their old values again. Each ref is a compare-and-swap on its
old value; refs that fail it are returned, not written. A ref without a loose file is not
locked (that would cost a file per ref again): a loose file another writer creates for it
meanwhile wins, as that writer's own compare-and-swap saw the old value, and the ref is
returned as not written.
"""

from __future__ import annotations

import bisect
import contextlib
import mmap
import os
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import pygit2

from gittrack import atomic
from gittrack.errors import ConflictError
from gittrack.git import config
from gittrack.git.repo import Repository, common_dir
from gittrack.types import CommitId, RefName

if TYPE_CHECKING:  # the record of the compare-and-swap API, which calls this module
    from gittrack.git.refs import RefUpdate

_HEADER = "# pack-refs with:"
_TRAITS = ("peeled", "fully-peeled", "sorted")
_LOCK_WAIT_S = 1.0  # git's core.packedRefsTimeout default
# The new packed-refs before its rename; not git's "packed-refs.new", which git creates with
# O_EXCL: one left by a killed process would stop git's own writes until removed.
_NEW = "packed-refs.gittrack-new"
# Refs each worktree keeps in its own folder (git's ``is_per_worktree_ref``): libgit2 lists them.
_PER_WORKTREE = ("refs/worktree/", "refs/bisect/", "refs/rewritten/")
_HEX = re.compile(r"\A(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")


def supported(repo: Repository) -> bool:
    """Whether this repository keeps its refs in files with a ``packed-refs`` we can parse
    (or none yet); anything else (reftable, a format we do not know) is left to libgit2."""
    common = common_dir(repo)
    return _files_backend(repo, common) and _readable(common / "packed-refs")


def list_prefixes(repo: Repository,
                  prefixes: Sequence[str]) -> list[dict[RefName, CommitId]] | None:
    """For each of ``prefixes``, every direct ref whose name starts with it, read from the
    files themselves in one pass (``packed-refs`` opened once); ``None`` where
    ``refs.list_refs`` must ask libgit2 (another ref storage, a prefix that may hold a
    worktree's own refs).

    libgit2's iterator builds an object per ref of the whole repository: 200,000 refs took
    0.8 s, where the lines of one prefix cut out of ``packed-refs`` take a fraction of that.
    Loose files are read first and win over ``packed-refs`` (read second), as in git: a
    ``git pack-refs`` in between writes ``packed-refs`` before it removes a loose file, so no
    ref is missed."""
    commons = [_readable_common(repo, prefix) for prefix in prefixes]
    if not commons or any(common is None for common in commons):
        return None
    common = common_dir(repo)
    loose = [_loose_refs(str(common) + os.sep, prefix) for prefix in prefixes]
    found: list[dict[RefName, CommitId]] = []
    for prefix, text, extra in zip(prefixes, _slices(common, prefixes), loose, strict=True):
        pairs = [line.partition(" ") for line in text.splitlines()]
        listed = cast("dict[RefName, CommitId]",
                      {name: sha for sha, _, name in pairs if name.startswith(prefix)})
        if extra:  # loose refs win, and the listing stays in name order, as git lists it
            listed = dict(sorted({**listed, **extra}.items()))
        found.append(listed)
    return found


def packed_lines(repo: Repository, prefix: str) -> str | None:
    """The refs under ``prefix`` as ``packed-refs`` has them, one ``<id> <name>\n`` line each
    in its (byte) order, when every such ref is there and only they are (no loose file under
    ``prefix``, no peeled line, nothing else between them); else ``None``: list them with
    ``list_prefixes``. Two listings are then compared at once, as texts."""
    common = _readable_common(repo, prefix)
    if common is None or _loose_refs(str(common) + os.sep, prefix, any_file=True) \
            or "sorted" not in _read_traits(common / "packed-refs"):
        return None
    [text] = _slices(common, [prefix])
    return None if "\n^" in text else text


def _readable_common(repo: Repository, prefix: str) -> Path | None:
    """The common folder when refs under ``prefix`` can be read from its files."""
    if not prefix.startswith("refs/") or any(
            p.startswith(prefix) or prefix.startswith(p) for p in _PER_WORKTREE):
        return None
    return common_dir(repo) if supported(repo) else None


def _slices(common: Path, prefixes: Sequence[str]) -> list[str]:
    """For each prefix, the lines of ``packed-refs`` from the first naming a ref under it to
    the last (each ending in a newline): every such line lies between them (a name holds no
    space), so only that slice is decoded, sorted file or not."""
    try:
        with open(common / "packed-refs", "rb") as f, _mapped(f) as data:
            return [_cut(data, prefix) for prefix in prefixes]
    except FileNotFoundError:
        return ["" for _ in prefixes]


def _cut(data: mmap.mmap | bytes, prefix: str) -> str:
    mark = b" " + _raw(prefix)
    first = data.find(mark)
    if first < 0:
        return ""
    start = data.rfind(b"\n", 0, first) + 1
    end = data.find(b"\n", data.rfind(mark))
    chunk = data[start:end + 1] if end >= 0 else data[start:] + b"\n"
    return chunk.decode("utf-8", "surrogateescape")


@contextlib.contextmanager
def _mapped(f: BinaryIO) -> Iterator[mmap.mmap | bytes]:
    """The file's bytes, mapped rather than copied (a large ``packed-refs`` is read for one
    slice); an empty file cannot be mapped."""
    if os.fstat(f.fileno()).st_size == 0:
        yield b""
        return
    with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data


def _loose_refs(root: str, prefix: str, *, any_file: bool = False) -> dict[RefName, CommitId]:
    """The loose ref files whose names start with ``prefix`` (no lock files, no symbolic or
    unreadable refs, no names git would refuse); ``any_file``: stop at the first file found
    there, whatever it is (returned with an empty value)."""
    folder, _, leaf = prefix.rpartition("/")
    found: dict[RefName, CommitId] = {}
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(root + current) as entries:
                listed = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name, is_dir in listed:
            full = f"{current}/{name}"
            if current == folder and not name.startswith(leaf):
                continue
            if is_dir:
                pending.append(full)
            elif any_file:
                return {RefName(full): CommitId("")}
            elif not name.endswith(".lock") and _valid_name(full):
                value = _read_loose(root + full)
                if value is not None and value is not _DIRECTORY and _HEX.match(value):
                    found[RefName(full)] = value
    return found


def transaction(repo: Repository, updates: Sequence[RefUpdate]) -> tuple[RefUpdate, ...]:
    """Apply ``updates`` in one rewrite of ``packed-refs`` under its lock; return those
    refused (see ``refs.update_refs``)."""
    common = common_dir(repo)
    with _PackedLock(common, _shared_perm(repo)) as lock:
        return _Transaction(common, lock).run(updates)


def _files_backend(repo: Repository, common: Path) -> bool:
    if (common / "reftable").is_dir():
        return False  # whatever the config says, git keeps the refs there
    storage = config.value(repo, "extensions.refStorage")
    return storage is None or storage.lower() == "files"


def _shared_perm(repo: Repository) -> int:
    """``core.sharedRepository`` as git's ``git_config_perm`` reads it: 0 (the umask decides),
    the bits to add (``group``: 0o660, ``all``: 0o664), or minus the exact mode (``0640``)."""
    found = config.value(repo, "core.sharedRepository")
    if found is None:
        return 0
    value = found.strip().lower()
    named = {"umask": 0, "group": 0o660, "all": 0o664, "world": 0o664, "everybody": 0o664,
             "true": 0o660, "yes": 0o660, "on": 0o660, "": 0o660,
             "false": 0, "no": 0, "off": 0}
    if value in named:
        return named[value]
    try:
        number = int(value, 8)
    except ValueError:
        return 0
    if number in (0, 1, 2):
        return (0, 0o660, 0o664)[number]
    return -(number & 0o666)


def _adjust_shared_perm(fd: int, shared: int) -> None:
    """git's ``adjust_shared_perm`` for a file, which git applies to ``packed-refs``: without
    it, a shared repository's other users could not read the refs after a restrictive umask."""
    if shared == 0:
        return
    mode = os.fstat(fd).st_mode & 0o7777
    tweak = -shared if shared < 0 else shared
    if not mode & 0o200:
        tweak &= ~0o222
    new = (mode & ~0o777) | tweak if shared < 0 else mode | tweak
    if new != mode:
        os.fchmod(fd, new)


def _read_traits(packed: Path) -> set[str]:
    """The traits ``packed-refs`` declares in its header (git's own when there is none)."""
    try:
        with packed.open("rb") as f:
            first = f.readline().decode("utf-8", "replace")
    except FileNotFoundError:
        return set(_TRAITS)
    return set(first[len(_HEADER):].split()) if first.startswith(_HEADER) else set()


def _readable(packed: Path) -> bool:
    """A ``packed-refs`` we can parse (or none): anything else is left to libgit2."""
    try:
        with packed.open("rb") as f:
            first = f.readline()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return not first or first.startswith(b"#") or first[:1] in b"0123456789abcdef"


class _PackedLock:
    """``packed-refs.lock``, created exclusively (waiting up to a second, as git does) and
    held until the transaction is over; ``commit`` renames a new file over ``packed-refs``
    under it."""

    def __init__(self, common: Path, shared: int = 0) -> None:
        self.path = common / "packed-refs.lock"
        self.target = common / "packed-refs"
        self.new = common / _NEW
        self.shared = shared
        self.held = False

    def __enter__(self) -> _PackedLock:
        deadline = time.monotonic() + _LOCK_WAIT_S
        while True:
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                self.held = True
                return self
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise ConflictError(
                        f"{self.path} exists: another git process is updating refs (if none "
                        "is, a crashed one left it: remove the file)") from None
                time.sleep(0.02)

    def commit(self, data: bytes) -> None:
        """``data`` written to a new file, fsynced, renamed over ``packed-refs``, and the
        rename made durable before any loose file it supersedes is removed."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.new)  # left by a killed transaction: only lock holders write it
        fd = os.open(self.new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            _adjust_shared_perm(fd, self.shared)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)  # the file holds the user's packed branches and tags too
        finally:
            os.close(fd)
        os.replace(self.new, self.target)
        # a platform that cannot open folders (Windows) has no use for it either
        with contextlib.suppress(OSError):
            atomic.fsync_dir(self.target.parent)

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.new)
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.held = False


class _Transaction:
    """One rewrite of ``packed-refs`` under its lock (see the module docstring)."""

    def __init__(self, common: Path, lock: _PackedLock) -> None:
        self.root = str(common) + os.sep
        self.lock = lock
        self.header, self.entries = _read_packed(common / "packed-refs")
        self.loose_locks: list[str] = []  # <ref>.lock files we created
        self.loose_done: list[str] = []  # loose files superseded by the new packed-refs
        self.unlocked: list[RefUpdate] = []  # refs with no loose file (and no lock of ours)
        self.changed = False  # whether packed-refs must be rewritten
        self._sorted: list[str] | None = None
        self._folders: set[str] = set()  # folders of the refs this batch creates
        self._files: dict[str, bool] = {}
        self._listed: dict[str, set[str]] = {}

    def run(self, updates: Sequence[RefUpdate]) -> tuple[RefUpdate, ...]:
        try:
            self._listed = _list_folders(self.root, {u.name.rpartition("/")[0] for u in updates})
            refused = [u for u in updates if not self._stage(u)]
            if len(refused) < len(updates):
                self._drop_reflogs(updates, refused)
                if self.changed:
                    self._write()
                self._finish()
            return tuple(refused) + self._shadowed()
        finally:
            for lock in self.loose_locks:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)

    def _stage(self, u: RefUpdate) -> bool:
        """Check ``u`` and put its new value in ``entries``; False if refused."""
        if not _valid_name(u.name):
            return False
        folder, _, leaf = u.name.rpartition("/")
        listed = self._listed.get(folder, set())
        if leaf + ".lock" in listed:
            return False  # another writer is setting it right now
        if leaf in listed:
            if not self._stage_loose(u):
                return False
        else:
            packed = self.entries.get(u.name)
            now = packed[0] if packed else None
            if u.checked and now != u.old:
                return False
            if u.new is not None and now is None and self._clashes(u.name):
                return False
            self.unlocked.append(u)
        if u.new is None:
            self.changed |= self.entries.pop(u.name, None) is not None
        elif (self.entries.get(u.name) or (None,))[0] != u.new:
            self.entries[u.name] = (u.new, None)
            self.changed = True
        return True

    def _stage_loose(self, u: RefUpdate) -> bool:
        """A ref with a loose file: locked as git's and libgit2's writers lock it, then
        compared under the lock; the file goes once the new ``packed-refs`` is in place."""
        path = self.root + u.name
        if _read_loose(path) is _DIRECTORY:
            return False
        try:
            os.close(os.open(path + ".lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError:
            return False
        self.loose_locks.append(path + ".lock")
        current = _read_loose(path)  # again, now that no one else can move it
        if current is None:  # pruned meanwhile (by `git pack-refs`): the packed value is it
            packed = self.entries.get(u.name)
            current = packed[0] if packed else None
        if current is _DIRECTORY or (u.checked and current != u.old):
            return False
        if current is None and u.new is not None and self._clashes(u.name):
            return False
        self.loose_done.append(path)
        return True

    def _clashes(self, name: str) -> bool:
        """A new ``name`` whose parent is a ref, or which is the folder of other refs."""
        parts = name.split("/")
        folder = name.rpartition("/")[0]
        # A folder of a ref this batch creates was checked with it, and no ref can be created
        # at it or above it any more (below): 10,000 new runs check their folder once.
        for i in range(2, len(parts)) if folder not in self._folders else ():
            parent = "/".join(parts[:i])
            if parent in self.entries or self._is_file(parent):
                return True
        if self._sorted is None:
            self._sorted = sorted(self.entries)
        i = bisect.bisect_left(self._sorted, name + "/")
        if (i < len(self._sorted) and self._sorted[i].startswith(name + "/")) \
                or name in self._folders:
            return True
        # later names in this batch clash with it too (a set: inserting each new name in the
        # sorted list moved the whole list, for 10,000 new refs among 200,000)
        if folder not in self._folders:
            self._folders.update("/".join(parts[:k]) for k in range(2, len(parts)))
        return False

    def _is_file(self, name: str) -> bool:
        if name not in self._files:
            self._files[name] = os.path.isfile(self.root + name)
        return self._files[name]

    def _write(self) -> None:
        traits = self.header | {"sorted"}
        lines = [f"{_HEADER} {' '.join(t for t in _TRAITS if t in traits)} \n"]
        entries = self.entries
        # git sorts names as bytes; ASCII ones sort the same as text, without a key
        names = sorted(entries) if all(map(str.isascii, entries)) else sorted(entries, key=_raw)
        lines += [f"{entries[name][0]} {name}\n" if not entries[name][1]
                  else f"{entries[name][0]} {name}\n^{entries[name][1]}\n" for name in names]
        self.lock.commit(_raw("".join(lines)))

    def _drop_reflogs(self, updates: Sequence[RefUpdate], refused: list[RefUpdate]) -> None:
        """Deleted refs' reflogs go first, as git does: should the rest fail, a ref without
        its reflog is better than a reflog without its ref."""
        skip = set(refused)
        for u in updates:
            if u.new is None and u not in skip:
                with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                    os.unlink(self.root + "logs/" + u.name)

    def _finish(self) -> None:
        """Loose files now superseded go, under their locks and ``packed-refs.lock``."""
        for path in self.loose_done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            _prune_empty_parents(os.path.dirname(path), self.root + "refs")

    def _shadowed(self) -> tuple[RefUpdate, ...]:
        """Refs written without a lock of ours for which another writer (a live run's
        checkpoint, ``git update-ref``) created a loose file or holds its lock now: theirs
        wins (their compare-and-swap passed against the old value), so ours did not land."""
        if not self.unlocked:
            return ()
        now = _list_folders(self.root, {u.name.rpartition("/")[0] for u in self.unlocked})
        shadowed = []
        for u in self.unlocked:
            folder, _, leaf = u.name.rpartition("/")
            listed = now.get(folder, set())
            if leaf in listed or leaf + ".lock" in listed:
                shadowed.append(u)
        return tuple(shadowed)


_DIRECTORY = CommitId("<directory>")


def _list_folders(root: str, folders: set[str]) -> dict[str, set[str]]:
    """The entries (loose refs, sub-folders, locks) of each ref folder: one listing per
    folder instead of one ``open`` per ref."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        try:
            with os.scandir(root + folder) as entries:
                found[folder] = {e.name for e in entries}
        except (FileNotFoundError, NotADirectoryError):
            found[folder] = set()
    return found


def _read_loose(path: str) -> CommitId | None:
    """The loose ref's value; None if there is none; ``_DIRECTORY`` if it is a folder of
    refs, or symbolic (neither can be set here)."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("ascii", "replace").strip()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return _DIRECTORY
    except IsADirectoryError:
        with contextlib.suppress(OSError):
            os.rmdir(path)  # an empty folder left by deleted refs is no clash
            return None
        return _DIRECTORY
    if text.startswith("ref:"):
        return _DIRECTORY
    return CommitId(text)


def _read_packed(path: Path) -> tuple[set[str], dict[str, tuple[CommitId, str | None]]]:
    """``packed-refs``: its traits and name → (id, peeled id)."""
    try:
        text = path.read_bytes().decode("utf-8", "surrogateescape")  # names are any bytes
    except FileNotFoundError:
        return set(_TRAITS), {}
    traits: set[str] = set()
    entries: dict[str, tuple[CommitId, str | None]] = {}
    last = None
    lines = text.splitlines()
    if "\n^" not in text:  # nothing peeled (no annotated tag): one pass without branches
        if lines and lines[0].startswith(_HEADER):
            traits = set(lines[0][len(_HEADER):].split())
        pairs = [line.partition(" ") for line in lines if line and not line.startswith("#")]
        return traits, {name: (CommitId(sha), None) for sha, _, name in pairs}
    for line in lines:
        if line.startswith(_HEADER):
            traits = set(line[len(_HEADER):].split())
        elif line.startswith("^") and last is not None:
            entries[last] = (entries[last][0], line[1:])
        elif line and not line.startswith("#"):
            sha, _, name = line.partition(" ")
            entries[name] = (CommitId(sha), None)
            last = name
    return traits, entries


def _raw(text: str) -> bytes:
    """``text`` back to the bytes it was read from (git sorts names as bytes)."""
    return text.encode("utf-8", "surrogateescape")


def _valid_name(name: str) -> bool:
    # as the bytes git has: a name that is not UTF-8 holds lone surrogates, which a str
    # argument would fail to encode (pygit2 takes bytes too; its stub says str only)
    raw: Any = _raw(name)
    return name.startswith("refs/") and bool(pygit2.reference_is_valid_name(raw))


def _prune_empty_parents(folder: str, stop: str) -> None:
    while folder.startswith(stop + os.sep):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)
