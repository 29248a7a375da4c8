"""Streamed S3 uploads: the ``FileSlice`` body, and multipart uploads on a moto server."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from fsspec.asyn import sync
from fsspec.callbacks import Callback

from gittrack.blobs import multipart
from gittrack.blobs import store as store_module
from gittrack.blobs.multipart import FileSlice
from gittrack.blobs.store import BlobStore
from gittrack.errors import StorageError
from tests.helpers.storage import Writer

MIN_PART = 5 << 20  # S3's (and moto's) smallest part but the last


def _bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def numbers(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    """An open file descriptor on 1,000 known bytes."""
    data = bytes(range(256)) * 3 + bytes(232)
    path = tmp_path / "numbers"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    yield fd, data
    os.close(fd)


# -- FileSlice --------------------------------------------------------------------------------


def test_slice_reads_its_window_only(numbers: tuple[int, bytes]):
    fd, data = numbers
    body = FileSlice(fd, 100, 300)
    assert len(body) == 300
    assert body.read(50) == data[100:150]
    assert body.tell() == 50
    assert body.read() == data[150:400]
    assert body.read(10) == b""


def test_slice_seeks_within_its_window(numbers: tuple[int, bytes]):
    fd, data = numbers
    body = FileSlice(fd, 100, 300)
    assert body.seek(0, os.SEEK_END) == 300
    assert body.seek(-10, os.SEEK_CUR) == 290
    assert body.read() == data[390:400]
    assert body.seek(500) == 300  # clamped, like a file at its end
    assert body.seek(0) == 0
    assert body.read(1) == data[100:101]


def test_slice_iterates_in_bounded_chunks(numbers: tuple[int, bytes], monkeypatch):
    fd, data = numbers
    monkeypatch.setattr(multipart, "_READ", 64)

    async def collect() -> list[bytes]:
        return [chunk async for chunk in FileSlice(fd, 10, 900)]

    chunks = asyncio.run(collect())
    assert b"".join(chunks) == data[10:910]
    assert max(map(len, chunks)) == 64


def test_slice_of_a_file_that_shrank_raises(numbers: tuple[int, bytes]):
    fd, _ = numbers
    body = FileSlice(fd, 900, 200)  # the file ends 100 bytes into the window
    with pytest.raises(OSError, match="shrank"):
        body.read()


def test_part_size_keeps_within_10000_parts():
    assert multipart.part_size(10) == multipart.PART
    assert multipart.part_size(1 << 40) * multipart.MAX_PARTS >= 1 << 40


# -- on S3 (moto) -----------------------------------------------------------------------------


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """Parts of 5 MiB, 2 in flight: several parts without large files."""
    monkeypatch.setattr(multipart, "PART", MIN_PART)
    monkeypatch.setattr(multipart, "PARTS_IN_FLIGHT", 2)
    return MIN_PART


def _parts_of(store: BlobStore, name: str) -> int:
    """How many parts S3 says the object was uploaded in (1 for a plain PUT)."""
    etag = str(store.fs.info(store.path(name))["ETag"]).strip('"')
    return int(etag.rpartition("-")[2]) if "-" in etag else 1


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_multipart_round_trip_on_part_boundaries(
    s3_url: tuple[str, dict[str, str]], small_parts: int, write: Writer, tmp_path: Path,
    delta: int,
):
    store = BlobStore.from_url(*s3_url)
    data = _bytes(2 * small_parts + delta, delta + 5)
    src, name = write(data)
    sent: list[int] = []
    store.put_file(name, src, progress=sent.append)
    store.get_file(name, tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == data
    assert _parts_of(store, name) == (2 if delta <= 0 else 3)
    assert sum(sent) == len(data) and len(sent) > 1


def test_parts_in_flight_are_bounded(
    s3_url: tuple[str, dict[str, str]], small_parts: int, write: Writer, tmp_path: Path
):
    store = BlobStore.from_url(*s3_url)
    client = sync(store.fs.loop, store.fs.set_session)
    in_flight: list[int] = [0]
    most: list[int] = [0]

    def start(**_: Any) -> None:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])

    def end(**_: Any) -> None:
        in_flight[0] -= 1

    client.meta.events.register("before-parameter-build.s3.UploadPart", start)
    client.meta.events.register("after-call.s3.UploadPart", end)
    try:
        data = _bytes(4 * small_parts + 1, 4)
        src, name = write(data)
        store.put_file(name, src)
    finally:
        client.meta.events.unregister("before-parameter-build.s3.UploadPart", start)
        client.meta.events.unregister("after-call.s3.UploadPart", end)
    assert _parts_of(store, name) == 5
    assert most[0] == multipart.PARTS_IN_FLIGHT == 2
    store.get_file(name, tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == data


def test_one_part_or_less_is_a_single_put(
    s3_url: tuple[str, dict[str, str]], small_parts: int, write: Writer, tmp_path: Path
):
    store = BlobStore.from_url(*s3_url)
    for size in (0, 1000, small_parts):
        data = _bytes(size, size)
        src, name = write(data)
        store.put_file(name, src)
        store.get_file(name, tmp_path / "back")
        assert (tmp_path / "back").read_bytes() == data
        assert _parts_of(store, name) == 1


def test_a_failed_part_aborts_the_upload(
    s3_url: tuple[str, dict[str, str]], small_parts: int, tmp_path: Path
):
    store = BlobStore.from_url(*s3_url)
    src = tmp_path / "short"
    src.write_bytes(_bytes(2 * small_parts, 1))
    target = store.path("ab" * 32)
    size = 3 * small_parts  # more than the file holds: its last part cannot be read
    with pytest.raises(OSError, match="shrank"):
        multipart.put_file(store.fs, str(src), target, size, Callback())
    bucket = s3_url[0].split("/")[2]
    uploads = store.fs.call_s3("list_multipart_uploads", Bucket=bucket)
    assert uploads.get("Uploads", []) == []
    assert not store.fs.exists(target)


def test_a_file_that_shrinks_is_refused_with_the_store_named(
    s3_url: tuple[str, dict[str, str]], small_parts: int, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    store = BlobStore.from_url(*s3_url)
    src = tmp_path / "src"
    src.write_bytes(_bytes(small_parts, 2))
    # As if the file lost its last 10 bytes between the stat and the upload.
    stat_size = store_module._source_size
    monkeypatch.setattr(store_module, "_source_size", lambda path: stat_size(path) + 10)
    with pytest.raises(StorageError, match="shrank") as info:
        store.put_file("cd" * 32, src)
    assert store.url in str(info.value)
    assert not store.exists("cd" * 32)


def test_a_part_sent_again_after_a_dropped_connection_is_whole(
    s3_url: tuple[str, dict[str, str]], small_parts: int, write: Writer, tmp_path: Path
):
    url, options = s3_url
    # botocore gives up at once, so s3fs's own retry (same arguments, same body) sends again.
    store = BlobStore.from_url(url, {**options, "config_kwargs": {
        "retries": {"total_max_attempts": 1}, "read_timeout": 10}})
    client = sync(store.fs.loop, store.fs.set_session)
    dropped: list[int] = []

    def drop_once(request: Any, **_: Any) -> None:
        if not dropped:
            dropped.append(len(request.body.read(1 << 20)))  # 1 MiB went out, then...
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)

    client.meta.events.register("before-send.s3.UploadPart", drop_once)
    data = _bytes(2 * small_parts + 7, 9)
    src, name = write(data)
    store.put_file(name, src)
    store.get_file(name, tmp_path / "back")
    assert dropped == [1 << 20]
    assert (tmp_path / "back").read_bytes() == data
