"""Uploads to S3 whose parts stream from the file, so memory stays flat whatever the part size.

s3fs's ``put_file`` reads each part into ``bytes`` and sends the parts in batches (a batch
waits for its slowest part before the next one starts). asyncio's transport also copies
whatever the socket does not take at once, so each part in flight costs about twice its
size. With 8 MiB parts and 4 in flight, a 2 GiB put peaked 65 MB above the process's
baseline. Here a part's body is a ``FileSlice``, a window onto the file. botocore hashes it
and aiohttp sends it in 256 KiB reads, all on the event loop's thread. A fixed number of
workers each take the next part as soon as their last one is done. Measured on moto: 1-2 MB
above the baseline during a 2 GiB put, and faster than s3fs. See ``docs/decisions.md``.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html: parts of 5 MiB to 5 GiB
(the last one may be smaller), at most 10,000 parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import AsyncIterator
from typing import Any

from fsspec.callbacks import Callback

PART = 8 << 20
"""Part size. Memory does not depend on it; larger parts mean fewer requests, but a failed
part is sent again whole."""
PARTS_IN_FLIGHT = 4
MAX_PARTS = 10_000
_READ = 256 << 10  # what aiohttp sends per write; also its own default
_INLINE = 256 << 10  # a file up to this size goes as one bytes body: no slice needed
_REWIND_ID = "gittrack-rewind-file-slice"


def part_size(size: int) -> int:
    """The part size for an object of ``size`` bytes: ``PART``, or more above 10,000 parts."""
    return max(PART, math.ceil(size / MAX_PARTS))


def put_file(fs: Any, local_path: str, target: str, size: int, callback: Callback) -> None:
    """Upload ``local_path`` (``size`` bytes, as stat'ed by the caller) to ``target`` through
    s3fs filesystem ``fs``. One PUT up to one part; above, a multipart upload, aborted if a
    part fails, and visible only once complete.

    A file that no longer has ``size`` bytes when read raises ``OSError``: the body would
    not match its announced length.
    """
    from fsspec.asyn import sync  # only when there is something to send

    sync(fs.loop, _put, fs, local_path, target, size, callback)
    fs.invalidate_cache(target)


class FileSlice:
    """``length`` bytes of an open file from ``offset``, as a request body.

    botocore sizes it with ``len``, hashes it with ``read``, then ``seek``s back; aiohttp
    sends it by iterating (it is not an ``io.IOBase``, so aiohttp does not hand each read
    to a thread pool, where every thread's malloc arena would keep a few MB). Reads go
    through ``os.pread``, so the slices of one file share its descriptor.
    """

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._offset = offset
        self._length = length
        self._pos = 0

    def __len__(self) -> int:
        return self._length

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = min(max(base + offset, 0), self._length)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        left = self._length - self._pos
        want = left if size is None or size < 0 else min(size, left)
        if want == 0:
            return b""
        data = os.pread(self._fd, want, self._offset + self._pos)
        if len(data) != want:  # pread is short only at the end of the file
            raise OSError(f"the file shrank while it was uploaded (expected {want} bytes "
                          f"at offset {self._offset + self._pos}, read {len(data)})")
        self._pos += want
        return data

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while chunk := self.read(_READ):
            yield chunk


async def _put(fs: Any, local_path: str, target: str, size: int, callback: Callback) -> None:
    bucket, key, _ = fs.split_path(target)
    callback.set_size(size)
    await fs.set_session()
    _rewind_slices(await fs.get_s3(bucket))  # the client ``_call_s3`` will use
    with open(local_path, "rb", buffering=0) as f:
        if size > part_size(size):
            await _multipart(fs, bucket, key, f.fileno(), size, callback)
            return
        body = _read_all(f, size) if size <= _INLINE else FileSlice(f.fileno(), 0, size)
        await fs._call_s3("put_object", Bucket=bucket, Key=key, Body=body)
    callback.relative_update(size)


async def _multipart(fs: Any, bucket: str, key: str, fd: int, size: int,
                     callback: Callback) -> None:
    upload = await fs._call_s3("create_multipart_upload", Bucket=bucket, Key=key)
    upload_id = upload["UploadId"]
    try:
        parts = await _send_parts(fs, bucket, key, upload_id, fd, size, callback)
        await fs._call_s3("complete_multipart_upload", Bucket=bucket, Key=key,
                          UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        # Parts of an upload never completed are kept (and billed) until it is aborted.
        with contextlib.suppress(Exception):
            await fs._call_s3("abort_multipart_upload", Bucket=bucket, Key=key,
                              UploadId=upload_id)
        raise


async def _send_parts(fs: Any, bucket: str, key: str, upload_id: str, fd: int, size: int,
                      callback: Callback) -> list[dict[str, Any]]:
    part = part_size(size)
    count = math.ceil(size / part)
    etags = [""] * count
    numbers = iter(range(count))  # shared: each worker takes the next part number

    async def worker() -> None:
        for i in numbers:
            length = min(part, size - i * part)
            out = await fs._call_s3("upload_part", Bucket=bucket, Key=key, UploadId=upload_id,
                                    PartNumber=i + 1, Body=FileSlice(fd, i * part, length))
            etags[i] = out["ETag"]
            callback.relative_update(length)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(PARTS_IN_FLIGHT, count))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:  # the other parts are pointless now: stop them before the abort
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]


def _read_all(f: Any, size: int) -> bytes:
    data: bytes = f.read(size)
    if len(data) != size:
        raise OSError(f"the file shrank while it was uploaded (expected {size} bytes, "
                      f"read {len(data)})")
    return data


def _rewind_slices(client: Any) -> None:
    """Each call starts a ``FileSlice`` from its beginning. botocore's own retries rewind
    the body, but s3fs retries some failures (a dropped connection after botocore's last
    attempt, SlowDown) by calling again with the same arguments: the body would start where
    the failed attempt stopped reading."""
    for operation in ("PutObject", "UploadPart"):
        client.meta.events.register_first(f"before-parameter-build.s3.{operation}", _rewind,
                                          unique_id=f"{_REWIND_ID}-{operation}")


def _rewind(params: dict[str, Any], **_: Any) -> None:
    body = params.get("Body")
    if isinstance(body, FileSlice):
        body.seek(0)
