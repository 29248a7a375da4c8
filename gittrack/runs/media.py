"""Media in a live run: taken out of ``log()``'s data, spooled, indexed at checkpoints.

``log()`` asks ``split`` only when the scalar path refused a value (numbers never pay for
this). Each media value's ``payloads(key)`` validate and capture it (``InvalidValueError``
naming the key, before anything of the call is recorded); ``Spool.write`` writes each
payload's raw bytes to a file in the run's write-ahead-log folder, then ``log()`` appends one
record::

    ("media", seq, time, step, {key: [{"kind", "spec", "file", "size", "items"}, ...]})

so the media of a call survive ``kill -9`` once ``log()`` returns. ``step`` is the step the
call's scalars get. ``LiveState`` keeps these records until a checkpoint; its ``Maker``
(``maker``), in the checkpoint thread, encodes each payload (``formats.media.base.encode``),
stores the bytes as a blob (``RunStorage.keep_bytes``) and returns the index rows
(``runs.media_index``) for ``media/``. Once the checkpoint is committed the spool files of its
records are deleted (``drop_spool``); a recovery after ``kill -9`` re-encodes from them.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.errors import InvalidValueError, RepositoryError
from gittrack.formats.histogram import Histogram
from gittrack.formats.media.base import Encoded, Media, Payload
from gittrack.formats.media.convert import as_media
from gittrack.formats.values import MAX_DEPTH, plain_str, validate_key
from gittrack.runs import layout

if TYPE_CHECKING:
    from gittrack.runs.run_storage import RunStorage
    from gittrack.runs.state import Extra, Maker

log = logging.getLogger("gittrack")

SPOOL_SUFFIX = ".media"
"""Spool files: ``<seq:016d>-<n>.media`` in the run's write-ahead-log folder."""

WAKE_BYTES = 64 << 20
"""Media spooled since the last checkpoint that wake the checkpoint thread early: the
encoding keeps up with a fast loop, and the spool stays small."""


def split(data: Mapping[Any, Any]) -> tuple[dict[Any, Any], dict[str, Media | list[Media]]] | None:
    """``data`` without its media values (nested dicts kept, as ``log()`` flattens them) and
    the media by flat key (``"val/pred"``); ``None`` if ``data`` holds no media."""
    media: dict[str, Media | list[Media]] = {}
    rest = _split(data, "", media, 1)
    return (rest, media) if media else None


def _split(data: Mapping[Any, Any], prefix: str, media: dict[str, Media | list[Media]],
           depth: int) -> dict[Any, Any]:
    rest: dict[Any, Any] = {}
    for key, value in data.items():
        name = prefix + key if prefix and isinstance(key, str) else key
        if isinstance(value, Mapping) and not isinstance(value, Histogram):
            if depth < MAX_DEPTH and isinstance(name, str):
                rest[key] = _split(value, name + "/", media, depth + 1)
            else:
                rest[key] = value
            continue
        found = as_media(value, name if isinstance(name, str) else repr(name))
        if found is None:
            rest[key] = value
        else:
            media[plain_str(validate_key(name))] = found  # the WAL holds plain str
    return rest


def capture(media: dict[str, Media | list[Media]]) -> dict[str, list[Payload]]:
    """Every payload of ``media`` (validated; ``InvalidValueError`` naming the key)."""
    out: dict[str, list[Payload]] = {}
    for key, value in media.items():
        items = value if isinstance(value, list) else [value]
        payloads: list[Payload] = []
        for item in items:
            got = item.payloads(key)
            if not isinstance(got, list) or not got:
                raise InvalidValueError(f"cannot log {key!r}: {type(item).__name__} gave no data")
            payloads.extend(got)
        out[key] = payloads
    return out


class Spool:
    """The media bytes of records not yet committed, beside the write-ahead log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.used = False

    def write(self, seq: int, captured: dict[str, list[Payload]],
              lists: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Write each payload's bytes to a file named by ``seq``; the record's items. On a
        failure (a full disk) nothing stays: ``RepositoryError`` naming the file."""
        written: list[Path] = []
        entries: dict[str, list[dict[str, Any]]] = {}
        number = 0
        try:
            for key, payloads in captured.items():
                items = []
                for payload in payloads:
                    name = f"{seq:016d}-{number}{SPOOL_SUFFIX}"
                    number += 1
                    path = self.directory / name
                    written.append(path)
                    size = _write(path, payload.raw)
                    item: dict[str, Any] = {"kind": payload.kind, "spec": dict(payload.spec),
                                            "file": name, "size": size}
                    if key in lists:
                        item["items"] = len(payloads)
                    items.append(item)
                entries[key] = items
        except OSError as exc:
            for path in written:
                path.unlink(missing_ok=True)
            raise RepositoryError(f"cannot write media to {self.directory}: "
                                  f"{exc.strerror or exc}: nothing of this call was recorded"
                                  ) from None
        self.used = True
        return entries

    def drop_through(self, seq: int) -> None:
        """Delete the spool files of records up to ``seq`` (committed)."""
        if not self.used:
            return
        drop_spool(self.directory, seq)


def _write(path: Path, raw: bytes | memoryview) -> int:
    view = memoryview(raw).cast("B")
    size = len(view)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return size


def drop_spool(directory: Path, seq: int) -> None:
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.endswith(SPOOL_SUFFIX) and name[:16].isdigit() and int(name[:16]) <= seq:
            with contextlib.suppress(OSError):
                os.unlink(directory / name)


def drop_spool_of(directory: Path, seq: int) -> None:
    """Delete the spool files of record ``seq`` (its record could not be written)."""
    for path in directory.glob(f"{seq:016d}-*{SPOOL_SUFFIX}"):
        path.unlink(missing_ok=True)


def maker_for(directory: Path, storage: RunStorage) -> Any:
    """What ``LiveState.media_maker`` is: records -> a ``Maker`` storing them."""

    def make_maker(records: list[tuple[Any, ...]]) -> Maker:
        done: list[Extra] = []

        def make() -> Extra:
            if not done:  # a retried checkpoint gets the same rows without encoding again
                done.append(_make(records, directory, storage))
            return done[0]

        return make

    return make_maker


ENCODERS = min(4, os.cpu_count() or 1)
"""Threads that encode the media of one checkpoint."""


def _map(fn: Callable[[Any], Encoded], items: list[Any]) -> list[Encoded]:
    if len(items) < 2 or ENCODERS < 2:
        return [fn(it) for it in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(ENCODERS, thread_name_prefix="gittrack-encode") as pool:
        return list(pool.map(fn, items))


def _make(records: list[tuple[Any, ...]], directory: Path, storage: RunStorage) -> Extra:
    from gittrack.formats.media import base
    from gittrack.runs.media_index import MediaRow, stored_path, table_of
    from gittrack.runs.state import Extra

    items: list[tuple[str, int, int, int, dict[str, Any], bytes]] = []
    for record in records:
        _, seq, _t, step, entries = record[:5]
        for key, listed in entries.items():
            for number, item in enumerate(listed):
                spool = directory / item["file"]
                try:
                    raw = spool.read_bytes()
                except OSError as exc:
                    log.warning("gittrack: media %r at step %s is lost: its spool file %s "
                                "cannot be read (%s)", key, step, spool, exc.strerror or exc)
                    continue
                if len(raw) != item["size"]:
                    log.warning("gittrack: media %r at step %s is lost: its spool file %s is "
                                "cut short", key, step, spool)
                    continue
                items.append((key, step, seq, number, item, raw))
    # Encoders (zlib, video codecs) release the GIL: the items are encoded side by side.
    encoded = _map(lambda it: base.encode(Payload(it[4]["kind"], it[5], it[4]["spec"])), items)
    rows: list[MediaRow] = []
    for (key, step, seq, number, item, _raw), enc in zip(items, encoded, strict=True):
        path = stored_path(key, step, seq, number, enc.format)
        entry = storage.keep_bytes(enc.data, path, what=f"media {key!r}")
        meta = dict(enc.meta)
        if "items" in item:
            meta["_items"] = item["items"]
        rows.append(MediaRow(
            key=key, step=step, type=item["kind"], item=number, entry=entry,
            width=enc.width, height=enc.height, length=enc.length, caption=enc.caption,
            format=enc.format, meta=meta))
    tables = {layout.MEDIA_DIR: [table_of(rows)]} if rows else {}
    return Extra(tables=tables)
