"""The media index of a run: Parquet chunks under ``media/`` (``layout.MEDIA_DIR``).

One row per stored media item (an image, one image of a list, a text...). Columns, in order:
the artifact manifest's (``path, digest, size, blob, ref``: what ``runs.reachability`` reads so
that push, pull, gc and purge know the blobs), then

| column  | type    | meaning                                                              |
|---------|---------|----------------------------------------------------------------------|
| key     | string  | the logged key (``"examples"``, ``"val/pred"``)                      |
| step    | int64   | the step of the ``log()`` call (the step its scalars got)            |
| type    | string  | the media kind: ``image``, ``text``, ``html``, ...                   |
| item    | int64   | the position in a list logged under the key (0 for a single value)  |
| width   | int64   | pixels (images, video), else null                                    |
| height  | int64   | pixels (images, video), else null                                    |
| length  | float64 | frames of a video, seconds of audio, rows of a table, else null      |
| caption | string  | the caption, or null                                                 |
| format  | string  | the stored file's extension: png, jpg, txt, html, ...                |
| meta    | string  | JSON, no content: an image's ``annotations``, a chart's spec; ``_items`` |

``path`` is ``media/<key>/<step>_<seq>_<item>.<format>`` (``stored_path``): the key is one
folder name (characters outside letters, digits and ``-_.~ ()+,=@`` percent-encoded, ``/``
included, a leading ``.`` too; a key longer than 150 characters cut and given a digest), so no
key can name a folder outside ``media/`` or another key's; ``seq`` (the log record's number)
keeps two calls at one step apart. It is the name ``gittrack export`` writes.

``MediaRow`` and ``read_rows`` are what other parts (show, export, pull) read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gittrack.errors import FormatError
from gittrack.runs import layout

if TYPE_CHECKING:
    import pyarrow as pa

    from gittrack.git.repo import Repository
    from gittrack.storage.entry import ManifestEntry
    from gittrack.types import CommitId

COLUMNS = ("key", "step", "type", "item", "width", "height", "length", "caption", "format",
           "meta")
"""The index's own columns, after the manifest columns."""
_SAFE = "-_.~ ()+,=@"
_MAX_FOLDER = 150
_FORMAT = re.compile(r"\A[a-z0-9]{1,16}\Z")
_NAME = re.compile(r"\A([0-9]{1,20})_([0-9]{1,20})_([0-9]{1,20})\.([a-z0-9]{1,16})\Z")
_KIND = re.compile(r"\A[a-z0-9_.-]{1,64}\Z")
MAX_META_CHARS = 16 << 20
"""The largest ``meta`` JSON a reader accepts for one row."""


@dataclasses.dataclass(frozen=True, slots=True)
class MediaRow:
    """One row of the media index."""

    key: str
    step: int
    type: str
    item: int
    entry: ManifestEntry
    width: int | None = None
    height: int | None = None
    length: float | None = None
    caption: str | None = None
    format: str = ""
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def seq(self) -> int:
        """The number of the ``log()`` record that logged it: rows of one entry (a list
        logged under one key) share it."""
        return int(self.entry.path.rsplit("/", 1)[1].split("_", 2)[1])

    @property
    def path(self) -> str:
        """The stored file's name: ``media/<key>/<step>_<seq>_<item>.<format>``."""
        return self.entry.path


def key_folder(key: str) -> str:
    """The folder name of ``key``'s files: one path component, never ``.``/``..``."""
    name = urllib.parse.quote(key, safe=_SAFE)
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name) > _MAX_FOLDER:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = name[:_MAX_FOLDER - 17]
        cut = name.find("%", len(name) - 2)  # not half of a %XX escape
        name = (name if cut < 0 else name[:cut]) + "~" + digest
    return name


def stored_path(key: str, step: int, seq: int, item: int, fmt: str) -> str:
    """Where item ``item`` of ``key`` logged at ``step`` by record ``seq`` is stored."""
    return f"{layout.MEDIA_DIR}/{key_folder(key)}/{step}_{seq}_{item}.{fmt}"


def table_of(rows: Sequence[MediaRow]) -> pa.Table:
    """The chunk holding ``rows``: the manifest columns, then ``COLUMNS``."""
    import pyarrow as pa

    from gittrack.artifacts.manifest import COLUMNS as MANIFEST
    from gittrack.artifacts.manifest import entry_arrays
    from gittrack.formats import arrow

    arrays = [
        *entry_arrays([r.entry for r in rows]),
        arrow.strings([r.key for r in rows]),
        arrow.numeric([r.step for r in rows], "int"),
        arrow.strings([r.type for r in rows]),
        arrow.numeric([r.item for r in rows], "int"),
        arrow.numeric([r.width for r in rows], "int"),
        arrow.numeric([r.height for r in rows], "int"),
        arrow.numeric([r.length for r in rows], "float"),
        arrow.strings([r.caption for r in rows]),
        arrow.strings([r.format for r in rows]),
        # ASCII JSON: a lone surrogate in a box caption is escaped, never an encoding error
        arrow.strings([json.dumps(r.meta, separators=(",", ":"), allow_nan=False)
                       for r in rows]),
    ]
    return pa.Table.from_arrays(arrays, names=[*MANIFEST, *COLUMNS])


def rows_of(tbl: pa.Table, *, what: str) -> list[MediaRow]:
    """The checked rows of one media chunk; ``FormatError`` naming ``what`` for anything
    gittrack would not have written (the chunk may come from a remote)."""
    from gittrack.artifacts.manifest import table_entries

    missing = [c for c in COLUMNS if c not in tbl.column_names]
    if missing:
        raise FormatError(f"{what} lacks the column(s) {', '.join(missing)}")
    entries = table_entries(tbl, what=what)
    rows = []
    for entry, row in zip(entries, tbl.select(list(COLUMNS)).to_pylist(), strict=True):
        problem = _row_problem(row, entry)
        if problem is not None:
            raise FormatError(f"{what}: row {entry.path!r}: {problem}"[:500])
        rows.append(MediaRow(
            key=row["key"], step=row["step"], type=row["type"], item=row["item"], entry=entry,
            width=row["width"], height=row["height"], length=row["length"],
            caption=row["caption"], format=row["format"], meta=row["meta"]))
    return rows


def _row_problem(row: dict[str, Any], entry: ManifestEntry) -> str | None:
    key = row["key"]
    if not isinstance(key, str) or not key:
        return f"key must be a non-empty string, got {key!r}"
    for name in ("step", "item"):
        value = row[name]
        if type(value) is not int or value < 0:
            return f"{name} must be a whole number >= 0, got {value!r}"
    for name in ("width", "height"):
        value = row[name]
        if value is not None and (type(value) is not int or value < 0):
            return f"{name} must be a whole number >= 0 or null, got {value!r}"
    length = row["length"]
    if length is not None and not (isinstance(length, float) and length >= 0):
        return f"length must be a number >= 0 or null, got {length!r}"
    if not isinstance(row["type"], str) or not _KIND.match(row["type"]):
        return f"type must be a media kind name, got {row['type']!r}"
    if not isinstance(row["format"], str) or not _FORMAT.match(row["format"]):
        return f"format must be a file extension, got {row['format']!r}"
    if row["caption"] is not None and not isinstance(row["caption"], str):
        return f"caption must be a string or null, got {row['caption']!r}"
    if entry.blob is None or entry.sha256 is None:
        return "a media item must name a blob and its sha256"
    folder, _, name = entry.path.rpartition("/")
    match = _NAME.match(name)
    if folder != f"{layout.MEDIA_DIR}/{key_folder(key)}" or match is None or (
            int(match[1]), int(match[3]), match[4]) != (row["step"], row["item"], row["format"]):
        return (f"path is not media/<key>/<step>_<seq>_<item>.<format> of key {key[:100]!r}, "
                f"step {row['step']!r}, item {row['item']!r}")
    meta = row["meta"]
    if not isinstance(meta, str) or len(meta) > MAX_META_CHARS:
        return "meta must be a JSON object of at most 16 MB"
    try:
        value = json.loads(meta)
    except (ValueError, RecursionError):
        return "meta is not JSON"
    if not isinstance(value, dict):
        return "meta must be a JSON object"
    row["meta"] = value
    return None


def read_rows(repo: Repository, commit: CommitId, key: str | None = None) -> list[MediaRow]:
    """Every media row of the run commit ``commit`` (only ``key``'s, if given), in the order
    they were logged; ``FormatError`` naming the file for a chunk that is not a media index
    gittrack wrote."""
    from gittrack.formats import table
    from gittrack.runs import store

    rows: list[MediaRow] = []
    for path, data in store.chunk_files(repo, commit, layout.MEDIA_DIR):
        what = f"{path} of commit {commit[:12]}"
        found = rows_of(table.read_chunk(data, what=what), what=what)
        rows.extend(found if key is None else (r for r in found if r.key == key))
    return rows
