"""Console capture: what a live run's process prints to stdout and stderr (docs/console.md).

W&B's default ("wrap"): the ``write`` method of the objects ``sys.stdout`` and ``sys.stderr``
are when the run starts is replaced, on that object, by one that writes to the stream as
before and then copies the text into the spool. The streams stay the same objects (``isatty``,
``fileno``, ``encoding``, tqdm, rich and logging handlers made before ``init`` all keep working,
and their output is captured); ``finish`` puts the original methods back. One capture at a
time per process: a second run started while one captures does not capture.

The spool (``layout.CONSOLE_SPOOL`` in the run's write-ahead-log folder) is a series of
segments ``<part>.spool``, each reserved and mapped like a WAL segment (``wal.map_reserved``):
a ``print`` costs one copy into the mapping (``mmap.write``, atomic under the GIL), no system
call, and what was copied survives ``kill -9`` (the page cache). The end of a segment's text is
its last byte that is not zero (the reserved rest reads as zeros).

A checkpoint *cuts* the spool (``Capture.cut``): the current segment is closed and a new one
opened; the closed segment's complete lines become one part, and its last, unfinished line (a
progress bar being redrawn) is carried, as the terminal would show it, to the start of the new
segment, whose name then ends in ``-c``. A segment that fills up is cut the same way (parts are
at most ``SEGMENT_BYTES``). In the checkpoint thread each part is made into text (a line
rewritten with ``\\r`` keeps its final state: ``terminal_text``), stored as a blob
(``RunStorage.keep_bytes``; encrypted for a private project) and listed in a row of a
``console/`` chunk. Segments are deleted once the checkpoint that holds them is committed.

Recovery of a killed run (``recovered_maker``) commits the segments its last checkpoint did not
hold: the last lines printed before the kill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.errors import GittrackWarning
from gittrack.runs import layout
from gittrack.runs.state import Extra, Maker
from gittrack.runs.wal import map_reserved

if TYPE_CHECKING:
    import mmap

    import pyarrow as pa

    from gittrack.git.repo import Repository
    from gittrack.runs.run_storage import RunStorage
    from gittrack.storage.entry import ManifestEntry
    from gittrack.types import CommitId

SEGMENT_BYTES = 4 * 1024 * 1024
"""A spool segment, and so the most raw bytes one part holds."""
MAX_CARRY = 64 * 1024
"""An unfinished line longer than this (as the terminal shows it) is not carried to the next
part: it is stored as it stands, and the part after it continues it."""
STREAM = "output"
"""stdout and stderr are stored together, in the order they were written (a terminal's view,
W&B's ``output.log``)."""
_SUFFIX = ".spool"
_CARRIED = "-c"
_READ_BLOCK = 64 * 1024

_current: Capture | None = None
_current_lock = threading.Lock()


def enabled(mode: str) -> bool:
    return mode != "off"


# -- the terminal's view ---------------------------------------------------------------------
def terminal_text(text: str) -> str:
    """``text`` as a terminal leaves it, line by line: after a carriage return the line is
    written over from its start (``"50%\\r100%"`` → ``"100%"``; ``"abc\\rx"`` → ``"xbc"``); a
    line written over keeps no trailing blanks. ANSI escape sequences take no column (a
    colour stays with the character after it) and are kept as they were written."""
    if "\r" not in text:
        return text
    lines = text.split("\n")
    return "\n".join(_overwritten(line, strip=True)[0] if "\r" in line else line
                     for line in lines)


_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -~])")
"""An ANSI escape sequence: CSI (colours, cursor moves), OSC (a title), or two bytes."""


def _cells(piece: str) -> tuple[list[str], str]:
    """The columns ``piece`` writes (each escape sequence joined to the character after it)
    and the escape sequences after its last character."""
    if "\x1b" not in piece:
        return list(piece), ""
    cells: list[str] = []
    prefix = ""
    pos = 0
    for match in _ESCAPE.finditer(piece):
        for char in piece[pos:match.start()]:
            cells.append(prefix + char)
            prefix = ""
        prefix += match.group()
        pos = match.end()
    for char in piece[pos:]:
        cells.append(prefix + char)
        prefix = ""
    return cells, prefix


def _overwritten(line: str, *, strip: bool) -> tuple[str, str | None]:
    """The final state of one line written with carriage returns, and the text before the
    cursor (``None`` when the cursor is at the end of the line)."""
    shown: list[str] = []
    after = ""  # escape sequences written after the last character
    cursor = 0
    for index, piece in enumerate(line.split("\r")):
        if index:
            cursor = 0
        if not piece:
            continue
        cells, trailing = _cells(piece)
        shown[cursor:cursor + len(cells)] = cells
        cursor += len(cells)
        # a piece that writes to the end of the line ends it with its own trailing sequences
        after = trailing if cursor >= len(shown) else after + trailing
    before = None if cursor >= len(shown) else "".join(shown[:cursor])
    if strip:
        while shown and shown[-1] in (" ", "\t"):
            shown.pop()
    return "".join(shown) + after, before


def _carried(tail: bytes) -> bytes:
    """The unfinished last line ``tail`` as the next segment starts with it: its final state
    and, if the cursor is not at its end, a carriage return and the text up to the cursor (so
    that what is printed next lands where the terminal would put it)."""
    text = tail.decode("utf-8", "replace")
    if "\r" not in text:
        return tail
    shown, before = _overwritten(text, strip=False)
    if before is not None:
        shown = shown + "\r" + before
    return shown.encode("utf-8")


# -- the spool ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """A closed spool segment: its first ``keep`` bytes are part ``part`` (the rest, if any, was
    carried to the next segment)."""

    part: int
    path: Path
    keep: int
    time: float
    cut_note: int | None = None
    """Set on the part where ``console_max_bytes`` stopped the capture: the limit."""


def segment_files(directory: Path) -> list[tuple[int, bool, Path]]:
    """``(part, starts with a carried line, path)`` of each segment in ``directory``, in order."""
    found = []
    with contextlib.suppress(OSError):
        for path in directory.iterdir():
            stem, suffix = path.stem, path.suffix
            if suffix != _SUFFIX:
                continue
            carried = stem.endswith(_CARRIED)
            number = stem.removesuffix(_CARRIED)
            if number.isascii() and number.isdigit():
                found.append((int(number), carried, path))
    return sorted(found)


def _text_end(fd: int, start: int) -> int:
    """Where the text of the segment ``fd`` ends, looking from ``start`` (all text before it):
    its last byte that is not zero."""
    end = start
    while True:
        block = os.pread(fd, _READ_BLOCK, end)
        used = len(block.rstrip(b"\0"))
        end += used
        if used < len(block) or not block:
            return end


def _last_newline(fd: int, end: int) -> int:
    """The offset of the last ``\\n`` before ``end`` in ``fd``; -1 if there is none."""
    stop = end
    while stop > 0:
        start = max(0, stop - _READ_BLOCK)
        found = os.pread(fd, stop - start, start).rfind(b"\n")
        if found >= 0:
            return start + found
        stop = start
    return -1


def _read(fd: int, start: int, end: int) -> bytes:
    out = bytearray()
    while start + len(out) < end:
        block = os.pread(fd, end - start - len(out), start + len(out))
        if not block:
            break
        out += block
    return bytes(out)


class Capture:
    """The spool of one run and the hooks on ``sys.stdout`` / ``sys.stderr`` that fill it."""

    def __init__(self, directory: Path, first_part: int, *, max_bytes: int | None,
                 wake: Callable[[], None]) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._part = first_part
        self._max_bytes = max_bytes
        self._wake = wake
        self._stored = 0  # bytes of closed segments kept (for max_bytes)
        self._closed: list[Segment] = []  # closed, not yet cut into a checkpoint
        self._cut: list[Segment] = []  # cut into a checkpoint not yet committed
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._path: Path | None = None
        self._carry = 0  # bytes at the start of the current segment carried from the last
        self._pos = 0
        self._active = True
        # The hot path: ``mmap.write`` of the current segment, or None (the slow path).
        self.target: Callable[[bytes], object] | None = None
        self._hooks: list[tuple[Any, Callable[[str], int], Callable[[str], int]]] = []
        self._proxies: list[tuple[str, _Tee]] = []
        self._redirect: _Redirect | None = None
        self._warned = False
        directory.mkdir(parents=True, exist_ok=True)
        for _, _, stale in segment_files(directory):  # a folded log's: stored or given up
            stale.unlink(missing_ok=True)
        self._open(b"")

    # -- segments -------------------------------------------------------------------------
    def _open(self, carry: bytes) -> None:
        """Make the next segment (under ``_lock``): prepared under a temporary name, holding
        the carried line, then renamed into place, so that a recoverer sees it whole."""
        name = f"{self._part:06d}{_CARRIED if carry else ''}{_SUFFIX}"
        final = self.directory / name
        temp = self.directory / f".{name}.tmp"
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _, mapping = map_reserved(fd, max(SEGMENT_BYTES, 2 * len(carry)), len(carry))
            if mapping is not None:
                mapping.write(carry)
            else:
                os.pwrite(fd, carry, 0)
            os.rename(temp, final)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        self._fd, self._map, self._path, self._carry = fd, mapping, final, len(carry)
        self._pos = len(carry)  # where the next pwrite goes, without a mapping
        self.target = mapping.write if mapping is not None else None

    def _close(self, *, final: bool) -> None:
        """Close the current segment (under ``_lock``) and open the next with its unfinished
        line, unless ``final`` (or the capture stops: ``max_bytes``)."""
        mapping, fd, path = self._map, self._fd, self._path
        assert path is not None
        self.target = None  # writers go to the slow path, which waits for _lock
        written = self._pos
        if mapping is not None:
            written = mapping.tell()
            mapping.close()  # a writer holding the old method now fails and retries
            self._map = None
        end = _text_end(fd, written)  # what such a writer copied just before the close
        newline = _last_newline(fd, end)
        keep, carry = end, b""
        if not final:  # a bar redrawn a million times on one line is carried as one state
            carried = _carried(_read(fd, newline + 1, end))
            if len(carried) <= MAX_CARRY:
                keep, carry = newline + 1, carried
        note = None
        if self._max_bytes is not None and self._stored + keep > self._max_bytes:
            keep, carry, note = self._max_bytes - self._stored, b"", self._max_bytes
            self._active = False
        with contextlib.suppress(OSError):
            os.ftruncate(fd, end)
        os.close(fd)
        self._fd, self._path = -1, None
        part = self._part
        self._part += 1
        if not final and self._active:
            try:
                self._open(carry)
            except OSError as exc:  # the unfinished line stays in this part
                keep, self._active = end, False
                self._warn(f"console capture stopped: cannot make {self.directory}: "
                           f"{exc.strerror or exc}")
        self._stored += keep
        segment = Segment(part, path, keep, time.time(), note)
        if keep or note is not None:
            self._closed.append(segment)
        else:  # nothing but an unfinished line, now at the start of the new segment
            path.unlink(missing_ok=True)

    def write(self, text: str) -> None:
        """The slow path: a write the mapping could not take (full, closed by a cut, not
        mapped, not UTF-8), or after the capture stopped."""
        if not isinstance(text, str) or not self._active:
            return
        data = text.encode("utf-8", "backslashreplace")
        with self._lock:
            while data and self._active and self._path is not None:
                piece, data = data[:SEGMENT_BYTES // 2], data[SEGMENT_BYTES // 2:]
                self._write_piece(piece)

    def _write_piece(self, piece: bytes) -> None:
        target = self.target
        if target is not None:
            try:
                target(piece)
                return
            except ValueError:  # full
                pass
        elif (self._map is None and self._fd >= 0  # no mapping: written with pwrite
              and self._pos + len(piece) <= SEGMENT_BYTES):
            self._pos += os.pwrite(self._fd, piece, self._pos)
            return
        self._close(final=False)
        self._wake()  # a full segment: the checkpoint thread stores it
        if not self._active or self._path is None:
            return
        if self.target is not None:
            with contextlib.suppress(ValueError):  # a segment made smaller by a full disk
                self.target(piece)
        else:
            self._pos += os.pwrite(self._fd, piece, self._pos)

    def _warn(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(f"gittrack: {message}", GittrackWarning, stacklevel=2)

    # -- checkpoints ------------------------------------------------------------------------
    def pending(self) -> bool:
        """Whether a line was completed since the last cut (a checkpoint is worth making)."""
        if self._closed:
            return True
        mapping = self._map
        if mapping is None:
            return self._fd >= 0 and self._pos > self._carry
        try:
            return mapping.find(b"\n", self._carry, mapping.tell()) >= 0
        except ValueError:  # closed by a cut in another thread
            return True

    def cut(self, storage: RunStorage, final: bool = False) -> Maker:
        """Close the current segment (all of it if ``final``; the capture must be stopped):
        the parts written since the last cut, as a maker of this checkpoint's console rows."""
        with self._lock:
            if self._path is not None and (final or self.pending()):
                self._close(final=final)
            segments, self._closed = self._closed, []
            self._cut.extend(segments)
        return PartsMaker(storage, segments)

    def committed(self) -> None:
        """The checkpoint holding every part cut so far is committed: delete their segments."""
        with self._lock:
            segments, self._cut = self._cut, []
        for segment in segments:
            segment.path.unlink(missing_ok=True)

    # -- hooks -------------------------------------------------------------------------------
    def install(self) -> None:
        redirected = self._redirect.saved if self._redirect is not None else {}
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name, None)
            if stream is None or any(stream is hooked for hooked, _, _ in self._hooks):
                continue
            if redirected and _descriptor(stream) in redirected:
                continue  # what it writes reaches a redirected descriptor: captured there
            original = stream.write
            hook = _hook(original, self)
            try:
                stream.write = hook
            except (AttributeError, TypeError):  # a stream that takes no attributes: a proxy
                proxy = _Tee(stream, hook)
                setattr(sys, name, proxy)
                self._proxies.append((name, proxy))
                continue
            self._hooks.append((stream, original, hook))

    def redirect(self) -> None:
        """Capture at the file-descriptor level (``console="redirect"``); a ``sys.stdout`` or
        ``sys.stderr`` that does not write to those descriptors (a notebook's, pytest's) is
        wrapped as well."""
        self._redirect = _Redirect(self)
        self._redirect.install()
        self.install()

    def stop(self) -> None:
        """Put the streams' own ``write`` back; nothing is captured after this."""
        if self._redirect is not None:  # what is still in its pipes is read first
            self._redirect.stop()
            self._redirect = None
        for stream, _original, hook in self._hooks:
            with contextlib.suppress(AttributeError, TypeError):
                if stream.__dict__.get("write") is hook:
                    del stream.write
        self._hooks.clear()
        for name, proxy in self._proxies:
            if getattr(sys, name, None) is proxy:
                setattr(sys, name, proxy._stream)
        self._proxies.clear()
        with self._lock:
            self._active = False
            self.target = None

    def forked(self) -> None:
        """In a forked child: the spool is the parent's; write nothing to it."""
        self._active = False
        self.target = None
        self._map = None  # the child's copy of the mapping is left to the process's end
        self._fd = -1


def _descriptor(stream: Any) -> int | None:
    try:
        fd = stream.fileno()
    except Exception:  # io.UnsupportedOperation, a closed stream, anything a stand-in raises
        return None
    return fd if isinstance(fd, int) else None


def _hook(original: Callable[[str], int], capture: Capture) -> Callable[[str], int]:
    def write(text: str) -> int:
        written = original(text)
        try:
            capture.target(text.encode())  # type: ignore[misc]
        except Exception:
            capture.write(text)
        return written

    return write


class _Tee:
    """Stands for a stream whose ``write`` cannot be replaced: everything else is its own."""

    def __init__(self, stream: Any, write: Callable[[str], int]) -> None:
        self._stream = stream
        self.write = write

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Redirect:
    """W&B's "redirect": file descriptors 1 and 2 point to a pipe (a pseudo-terminal when they
    were a terminal, so that ``isatty()`` still says so) that a thread copies to where they
    pointed and into the spool. It catches what never goes through ``sys.stdout`` (C
    extensions, ``os.system``, subprocesses); what is still in the pipe when the process is
    killed is lost, from the terminal too."""

    def __init__(self, capture: Capture) -> None:
        self._capture = capture
        self.saved: dict[int, int] = {}  # fd -> a copy of what it pointed to
        self._threads: list[threading.Thread] = []

    def install(self) -> None:
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            with contextlib.suppress(Exception):
                stream.flush()
            try:
                terminal = os.isatty(fd)
                saved = os.dup(fd)
            except OSError:
                continue  # no such descriptor (a daemon): nothing to capture
            try:
                read, write = _pty_pair(saved) if terminal else os.pipe()
                os.dup2(write, fd)
                os.close(write)
            except OSError:
                os.close(saved)
                continue
            self.saved[fd] = saved
            thread = threading.Thread(target=self._pump, args=(read, saved), daemon=True,
                                      name=f"gittrack-console-{fd}")
            thread.start()
            self._threads.append(thread)

    def _pump(self, read: int, out: int) -> None:
        import codecs

        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        try:
            while True:
                try:
                    data = os.read(read, 65536)
                except InterruptedError:
                    continue
                except OSError:  # EIO: a pseudo-terminal whose other side is closed
                    break
                if not data:
                    break
                view = memoryview(data)
                with contextlib.suppress(OSError):
                    while view:
                        view = view[os.write(out, view):]
                self._capture.write(decode(data))
        finally:
            os.close(read)

    def stop(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for fd, saved in self.saved.items():
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)  # the pipe's last writer closed: its reader sees the end
        for thread in self._threads:
            thread.join(timeout=2.0)  # a subprocess still holding the pipe: not waited for
        for saved in self.saved.values():
            with contextlib.suppress(OSError):
                os.close(saved)
        self.saved.clear()


def _pty_pair(like: int) -> tuple[int, int]:
    """``(read, write)``: a pseudo-terminal in raw mode (``\\n`` stays ``\\n``), the size of
    the terminal ``like``."""
    import fcntl
    import pty
    import termios
    import tty

    master, slave = pty.openpty()
    tty.setraw(slave)
    with contextlib.suppress(OSError):
        fcntl.ioctl(slave, termios.TIOCSWINSZ, fcntl.ioctl(like, termios.TIOCGWINSZ, b"\0" * 8))
    return master, slave


# -- the process's one capture ------------------------------------------------------------------
def start(directory: Path, first_part: int, *, mode: str, max_bytes: int | None,
          wake: Callable[[], None]) -> Capture | None:
    """Capture this process's output into ``directory``; ``None`` if ``mode`` is ``"off"`` or
    another run captures already."""
    global _current
    if not enabled(mode):
        return None
    with _current_lock:
        if _current is not None and _current._active:
            return None
        capture = Capture(directory, first_part, max_bytes=max_bytes, wake=wake)
        if mode == "redirect":
            capture.redirect()
        else:
            capture.install()
        _current = capture
    return capture


def stop(capture: Capture) -> None:
    global _current
    capture.stop()
    with _current_lock:
        if _current is capture:
            _current = None


def stop_all() -> None:
    """Stop the capture of this process, if any (tests, between runs left unfinished)."""
    capture = _current
    if capture is not None:
        stop(capture)


def write_aside(stream: Any, text: str) -> None:
    """Write ``text`` to ``stream`` without capturing it (gittrack's own line at ``init``: W&B's
    ``output.log`` holds no line of wandb's either)."""
    capture = _current
    redirect = capture._redirect if capture is not None else None
    if redirect is not None:
        with contextlib.suppress(Exception):
            fd = stream.fileno()
            if fd in redirect.saved:
                stream.flush()
                os.write(redirect.saved[fd], text.encode("utf-8", "backslashreplace"))
                return
    if capture is not None:
        for hooked, original, _ in capture._hooks:
            if hooked is stream:
                original(text)
                return
        for _, proxy in capture._proxies:
            if proxy is stream:
                proxy._stream.write(text)
                return
    stream.write(text)


def _after_fork_in_child() -> None:
    global _current
    capture = _current
    if capture is not None:
        capture.forked()
        _current = None


os.register_at_fork(after_in_child=_after_fork_in_child)


# -- the checkpoint's rows ----------------------------------------------------------------------
class PartsMaker:
    """Makes the ``console/`` rows of the parts cut into one checkpoint (in the checkpoint
    thread); the same result if called again (a retried checkpoint)."""

    def __init__(self, storage: RunStorage, segments: list[Segment]) -> None:
        self._storage = storage
        self._segments = segments
        self._made: Extra | None = None

    def __call__(self) -> Extra:
        if self._made is not None:
            return self._made
        made, whole = parts_extra(self._storage, [
            (s.part, _segment_text(s.path, s.keep), s.time, s.cut_note)
            for s in self._segments])
        if whole:  # a part that could not be stored is tried again if the checkpoint is
            self._made = made
        return made


def _segment_text(path: Path, keep: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(keep)


def parts_extra(storage: RunStorage,
                parts: list[tuple[int, bytes, float, int | None]]) -> tuple[Extra, bool]:
    """Each part's text (as a terminal shows it) stored as a blob, and a row naming it; whether
    every part was stored.

    A part that cannot be stored (the store unreachable, a private project's keys not
    unlocked here) is left out with a warning: the console never keeps a checkpoint, and so
    the run's steps, from being committed."""
    from gittrack.errors import GittrackError

    entries: list[ManifestEntry] = []
    rows: list[tuple[int, int, float]] = []
    stored = 0  # parts with text to store
    for part, raw, when, note in parts:
        text = terminal_text(raw.decode("utf-8", "replace"))
        if note is not None:
            text += (("" if not text or text.endswith("\n") else "\n")
                     + f"[gittrack: console output cut at {note:,} bytes (console_max_bytes)]\n")
        if not text:
            continue
        data = text.encode("utf-8")
        name = layout.console_part_name(part)
        stored += 1
        try:
            entries.append(storage.keep_bytes(data, name, what="console"))
        except (GittrackError, OSError) as exc:
            warnings.warn(f"gittrack: console output not stored ({name}, {text.count(chr(10))} "
                          f"lines): {getattr(exc, 'strerror', None) or exc}", GittrackWarning,
                          stacklevel=2)
            continue
        rows.append((part, text.count("\n"), when))
    whole = len(entries) == stored
    if not entries:
        return Extra(), whole
    return Extra(tables={layout.CONSOLE_DIR: [_table(entries, rows)]}), whole


PART_COLUMNS = ("part", "stream", "lines", "time")
"""The columns of a ``console/`` chunk after the manifest columns."""


def _table(entries: list[ManifestEntry], rows: list[tuple[int, int, float]]) -> pa.Table:
    import pyarrow as pa

    from gittrack.artifacts.manifest import COLUMNS, entry_arrays
    from gittrack.formats import arrow

    arrays = [*entry_arrays(entries), arrow.numeric([r[0] for r in rows], "int"),
              arrow.strings([STREAM] * len(rows)), arrow.numeric([r[1] for r in rows], "int"),
              arrow.numeric([r[2] for r in rows], "float")]
    return pa.Table.from_arrays(arrays, names=[*COLUMNS, *PART_COLUMNS])


# -- reading back --------------------------------------------------------------------------------
def stored_parts(repo: Repository, commit: CommitId) -> list[ManifestEntry]:
    """The stored parts of a run's console output at ``commit``, in order."""
    from gittrack.artifacts.manifest import read_manifest
    from gittrack.runs import store

    entries: list[ManifestEntry] = []
    for path, data in store.chunk_files(repo, commit, layout.CONSOLE_DIR):
        entries.extend(read_manifest(data, what=f"{path} of commit {commit[:12]}"))
    return entries


def next_part(repo: Repository, commit: CommitId | None) -> int:
    """The number of the part after the last one stored at ``commit`` (0 if none)."""
    if commit is None:
        return 0
    parts = stored_parts(repo, commit)
    if not parts:
        return 0
    last = parts[-1].path.rsplit("-", 1)[-1].removesuffix(".log")
    return int(last) + 1 if last.isascii() and last.isdigit() else len(parts)


def read_console(repo: Repository, commit: CommitId) -> str:
    """A run's console output at ``commit``: every part's text, in order (blobs are fetched
    from the store, and decrypted, when this machine does not have them)."""
    from gittrack.runs.run_storage import RunStorage

    parts = stored_parts(repo, commit)
    if not parts:
        return ""
    vault = RunStorage(repo).vault
    return "".join(vault.cached(entry, what="console").read_bytes().decode("utf-8", "replace")
                   for entry in parts)


# -- recovery ------------------------------------------------------------------------------------
def recovered_maker(repo: Repository, head: CommitId, wal_directory: Path,
                    storage: RunStorage) -> Maker | None:
    """The console rows a killed run's spool holds beyond its last checkpoint (``head``): every
    segment not stored yet; a segment whose unfinished line was carried to the next gives only
    its complete lines. ``None`` when the spool is empty or gone."""
    directory = wal_directory / layout.CONSOLE_SPOOL
    found = segment_files(directory)
    if not found:
        return None
    first = next_part(repo, head)
    segments = [(part, carried, path) for part, carried, path in found if part >= first]
    if not segments:
        return None
    parts: list[tuple[int, bytes, float, int | None]] = []
    for index, (part, _, path) in enumerate(segments):
        data = path.read_bytes().rstrip(b"\0")
        later = segments[index + 1] if index + 1 < len(segments) else None
        if later is not None and later[1]:  # its last line went on in the next segment
            data = data[:data.rfind(b"\n") + 1]
        parts.append((part, data, path.stat().st_mtime, None))
    made: list[Extra] = []

    def make() -> Extra:
        if not made:
            made.append(parts_extra(storage, parts)[0])
        return made[0]

    return make
