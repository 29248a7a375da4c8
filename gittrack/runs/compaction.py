"""Tiered compaction of a run's chunks (docs/format.md, "Chunks and compaction"; docs/decisions.md,
"Issue 10: long runs").

A checkpoint writes its rows as level-0 chunks (``history/0/``). When a level holds
``MERGE_FACTOR`` (F) chunks, the same checkpoint merges them into one chunk of the next level:
a row is rewritten once per level it climbs, about log_F(checkpoints) times in all, and a
folder holds at most F - 1 chunks per level. A chunk that decodes to 1/F of the writer bound
or more is *final* (``history/final/``) and never merged again, so that F mergeable chunks
decode to less than the bound: a merge holds at most that much in memory and writes one chunk
within it. When a chunk becomes final, the mergeable chunks older than it become final too
(moved, not rewritten): a merge never covers numbers on both sides of a final chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping, Sequence
from typing import TYPE_CHECKING

from gittrack.errors import FormatError
from gittrack.formats import table
from gittrack.git import objects
from gittrack.git.repo import Repository
from gittrack.runs import layout, overview

if TYPE_CHECKING:
    import pyarrow as pa

MERGE_FACTOR = 16
"""F: chunks of one level merged into one of the next (docs/decisions.md, "Issue 10: long runs":
16 holds a run of 8,640 checkpoints in at most 60 chunks, each row rewritten at most 3 times)."""

Files = MutableMapping[str, objects.FileContent]


@dataclasses.dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk file of a run: the chunk numbers it covers and its folder: a level ("0",
    "1", ...), ``layout.FINAL``, or "" for a v1 run's flat chunk."""

    first: int
    last: int
    folder: str

    @property
    def level(self) -> int | None:
        return layout.folder_level(self.folder) if self.folder else None

    def path(self, directory: str) -> str:
        return layout.chunk_path(directory, self.folder, self.first, self.last)

    def moved(self, folder: str) -> Chunk:
        return Chunk(self.first, self.last, folder)

    def overview_path(self, directory: str) -> str:
        """Where this chunk's overview is, when it has one (``runs.overview``)."""
        return layout.overview_path(self.path(directory))


def list_chunks(repo: Repository, tree: objects.Tree, directory: str) -> list[Chunk]:
    """The chunks of ``directory`` (``history`` or ``histograms``) in ``tree``, in row order:
    by first number, whatever their folder (v1's flat files, levels, ``final``). Files and
    folders with other names are not chunks and are left out, as v1 readers did."""
    found = [Chunk(r[0], r[1], "") for name in objects.list_files(repo, tree, directory)
             if (r := layout.chunk_range(name)) is not None]
    for folder in objects.list_folders(repo, tree, directory):
        if layout.is_chunk_folder(folder):
            found += [Chunk(r[0], r[1], folder)
                      for name in objects.list_files(repo, tree, f"{directory}/{folder}")
                      if (r := layout.chunk_range(name)) is not None]
    return sorted(found, key=lambda c: (c.first, c.last))


class Tiers:
    """The plan: the mergeable chunks of one folder by level, oldest first. Every chunk of a
    level is older (lower numbers) than every chunk of the levels below it, so a merge of a
    level's oldest F chunks covers consecutive numbers and its result goes last in the next
    level. No I/O: the checkpoint thread's ``Compactor`` and the tests drive it."""

    def __init__(self, factor: int = MERGE_FACTOR) -> None:
        self.factor = factor
        self.levels: list[list[Chunk]] = []

    def __len__(self) -> int:
        return sum(len(chunks) for chunks in self.levels)

    def add(self, chunk: Chunk) -> None:
        """A mergeable chunk, newer than every one held (or read from a tree, in order)."""
        level = chunk.level
        assert level is not None
        while len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append(chunk)

    def placed(self, first: int, last: int, final: bool) -> tuple[Chunk, list[Chunk]]:
        """Where a new chunk goes (level 0 or final), and the chunks its being final closes."""
        if final:
            return Chunk(first, last, layout.FINAL), self.close_before(first)
        chunk = Chunk(first, last, layout.level_folder(0))
        self.add(chunk)
        return chunk, []

    def next_merge(self) -> list[Chunk] | None:
        """The oldest F chunks of the lowest level that has F, or ``None``."""
        for chunks in self.levels:
            if len(chunks) >= self.factor:
                return chunks[:self.factor]
        return None

    def merged(self, inputs: Sequence[Chunk], final: bool) -> tuple[Chunk, list[Chunk]]:
        """The chunk that replaces ``inputs`` (what ``next_merge`` gave), and the chunks its
        being final closes."""
        level = inputs[0].level
        assert level is not None and self.levels[level][:len(inputs)] == list(inputs)
        del self.levels[level][:len(inputs)]
        first, last = inputs[0].first, inputs[-1].last
        if final:
            return Chunk(first, last, layout.FINAL), self.close_before(first)
        chunk = Chunk(first, last, layout.level_folder(level + 1))
        self.add(chunk)
        return chunk, []

    def close_before(self, number: int) -> list[Chunk]:
        """Take out the chunks older than ``number``: they become final."""
        closed = sorted((c for chunks in self.levels for c in chunks if c.last < number),
                        key=lambda c: c.first)
        for chunks in self.levels:
            chunks[:] = [c for c in chunks if c.last >= number]
        return closed


def is_final(decoded: int, factor: int = MERGE_FACTOR) -> bool:
    """Whether a chunk that decodes to ``decoded`` bytes is never merged again."""
    return decoded >= table.write_bound() // factor


class Compactor:
    """One folder of a run (``history`` or ``histograms``) as the checkpoint thread keeps it
    between commits: the plan (at most F - 1 chunks per level) and a v1 run's flat chunks
    until the first commit moves them. Nothing grows with the number of checkpoints.

    In ``layout.OVERVIEW_DIRS``, a large chunk is written with its overview
    (``runs.overview``), which goes where its chunk goes: moved with it to ``final/``,
    removed with it when it is merged (the merged chunk gets its own)."""

    def __init__(self, repo: Repository, directory: str, chunks: Sequence[Chunk],
                 first_columns: Sequence[str]) -> None:
        self.repo = repo
        self.directory = directory
        self.overviews = directory in layout.OVERVIEW_DIRS
        self.first_columns = tuple(first_columns)
        self.tiers = Tiers()
        self.flat = [c for c in chunks if c.folder == ""]
        for chunk in chunks:
            if chunk.level is not None:
                self.tiers.add(chunk)

    def write(self, files: Files, base: objects.Tree | None, part: pa.Table,
              number: int) -> None:
        """Add ``part`` (one new chunk's rows) to ``files`` as chunk ``number``."""
        chunk, closed = self.tiers.placed(number, number, is_final(table.decoded_size(part)))
        self._finalize(files, base, closed)
        self._put(files, chunk, part)

    def compact(self, files: Files, base: objects.Tree | None) -> bool:
        """Merge what the plan says into ``files``: the merged chunks replace their inputs
        (inputs written by this same commit are never stored); whether anything was merged.
        A v1 run's flat chunks move to ``final/`` at its first v2 commit."""
        if self.flat:
            self._finalize(files, base, self.flat)
            self.flat = []
        merged_any = False
        while (inputs := self.tiers.next_merge()) is not None:
            merged_any = True
            merged = table.concat([self._read(files, base, c) for c in inputs],
                                  first=self.first_columns)
            assert merged is not None
            chunk, closed = self.tiers.merged(inputs, is_final(table.decoded_size(merged)))
            for old in inputs:
                self._drop(files, base, old)
            self._finalize(files, base, closed)
            self._put(files, chunk, merged)
        return merged_any

    def _put(self, files: Files, chunk: Chunk, part: pa.Table) -> None:
        """Chunk ``chunk`` holding ``part``, with its overview if it gets one."""
        files[chunk.path(self.directory)] = table.encode(part)
        summary = overview.make(part) if self.overviews else None
        if summary is not None:
            files[chunk.overview_path(self.directory)] = summary

    def _read(self, files: Files, base: objects.Tree | None, chunk: Chunk) -> pa.Table:
        path = chunk.path(self.directory)
        data = files.get(path)
        if not isinstance(data, bytes):
            data = objects.read_file(self.repo, base, path) if base is not None else None
        if data is None:
            raise FormatError(f"cannot merge {path}: it is not in the run's tree")
        return table.read_chunk(data, what=path)

    def _drop(self, files: Files, base: objects.Tree | None, chunk: Chunk) -> None:
        """Remove ``chunk`` (merged) and its overview, if it has one."""
        paths = [chunk.path(self.directory)]
        if self.overviews:
            paths.append(chunk.overview_path(self.directory))
        for path in paths:
            if isinstance(files.get(path), bytes):
                del files[path]
            elif base is not None and objects.entry_id(base, path) is not None:
                files[path] = None

    def _finalize(self, files: Files, base: objects.Tree | None,
                  chunks: Sequence[Chunk]) -> None:
        """Move ``chunks`` to ``final/``, as they are (the same blobs), with their overviews."""
        for chunk in chunks:
            moved = chunk.moved(layout.FINAL)
            self._move(files, base, chunk.path(self.directory), moved.path(self.directory),
                       required=True)
            if self.overviews:
                self._move(files, base, chunk.overview_path(self.directory),
                           moved.overview_path(self.directory), required=False)

    def _move(self, files: Files, base: objects.Tree | None, old: str, new: str, *,
              required: bool) -> None:
        content = files.pop(old, None)
        if not isinstance(content, bytes):
            blob = objects.entry_id(base, old) if base is not None else None
            if blob is None:
                if not required:
                    return
                raise FormatError(f"cannot move {old}: it is not in the run's tree")
            content = objects.Existing(blob)
            files[old] = None
        files[new] = content
