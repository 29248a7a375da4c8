"""The BlobStore contract, run against a local folder, fsspec's memory filesystem and S3 (moto)."""

from __future__ import annotations

import random
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittrack.blobs.hashing import CHUNK
from gittrack.blobs.presence import PresenceCache
from gittrack.blobs.store import BlobInfo, BlobStore
from gittrack.errors import BlobNotFoundError, StorageError, UsageError
from tests.helpers.servers import free_port
from tests.helpers.storage import Writer, digest_of

BAD_NAMES = ["", "ab", "ABCDEF", "abc/def", "../abcdef", "abc..def", "xyz123", " abcdef"]


def fake_name(i: int) -> str:
    return digest_of(f"not stored {i}".encode())


# -- round trips ------------------------------------------------------------------------------


def test_put_then_get_returns_the_same_bytes(store: BlobStore, write: Writer, tmp_path: Path):
    src, name = write(b"hello blobs")
    store.put_file(name, src)
    store.get_file(name, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"hello blobs"
    assert store.exists(name)


def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


# Sizes on and around multiples of CHUNK (and of the 4 MiB fsspec block), plus small binaries.
AROUND_CHUNKS = st.builds(
    lambda k, delta: max(0, k * CHUNK + delta), st.integers(0, 4), st.integers(-2, 2)
)
CONTENTS = st.one_of(
    st.binary(max_size=600),
    st.builds(_random_bytes, AROUND_CHUNKS, st.integers(0, 2**32)),
)


@given(data=CONTENTS)
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_round_trip_across_chunk_boundaries(
    store: BlobStore, write: Writer, tmp_path: Path, data: bytes
):
    src, name = write(data)
    store.put_file(name, src)
    out = tmp_path / f"out-{uuid.uuid4().hex}"
    store.get_file(name, out)
    assert out.read_bytes() == data
    with store.open(name) as f:
        assert f.read() == data


def test_put_is_idempotent(store: BlobStore, write: Writer, tmp_path: Path):
    src, name = write(b"twice")
    store.put_file(name, src)
    store.put_file(name, src)
    store.get_file(name, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"twice"
    assert [b.name for b in store.iter_blobs()] == [name]


def test_get_replaces_an_existing_file(store: BlobStore, write: Writer, tmp_path: Path):
    src, name = write(b"new content")
    store.put_file(name, src)
    out = tmp_path / "out"
    out.write_bytes(b"old content that is longer")
    store.get_file(name, out)
    assert out.read_bytes() == b"new content"


def test_progress_adds_up_to_the_size(store: BlobStore, write: Writer, tmp_path: Path):
    data = _random_bytes(3 * CHUNK + 5, 1)
    src, name = write(data)
    sent: list[int] = []
    received: list[int] = []
    store.put_file(name, src, progress=sent.append)
    store.get_file(name, tmp_path / "out", progress=received.append)
    assert sum(sent) == sum(received) == len(data)
    assert all(n > 0 for n in sent + received)


def test_open_streams_a_blob(store: BlobStore, write: Writer):
    data = _random_bytes(2 * CHUNK + 3, 2)
    src, name = write(data)
    store.put_file(name, src)
    with store.open(name) as f:
        assert f.read(10) == data[:10]
        assert f.read() == data[10:]


# -- names ------------------------------------------------------------------------------------


def test_path_is_sharded(store: BlobStore):
    name = digest_of(b"x")
    assert store.path(name) == f"{store.root}/{name[:2]}/{name[2:]}"


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_invalid_names_are_refused_everywhere(
    store: BlobStore, write: Writer, tmp_path: Path, bad: str
):
    src, _ = write(b"x")
    calls = [
        lambda: store.path(bad),
        lambda: store.exists(bad),
        lambda: store.missing([fake_name(1), bad]),
        lambda: store.put_file(bad, src),
        lambda: store.get_file(bad, tmp_path / "out"),
        lambda: store.open(bad),
        lambda: store.delete(bad),
    ]
    for call in calls:
        with pytest.raises(StorageError, match="invalid blob name"):
            call()
    assert list(store.iter_blobs()) == []


# -- missing, exists, delete, listing ---------------------------------------------------------


def put_blobs(store: BlobStore, write: Writer, count: int) -> list[str]:
    """``count`` different blobs put in ``store``; their names."""
    names = []
    for i in range(count):
        src, name = write(f"blob {i}".encode())
        store.put_file(name, src)
        names.append(name)
    return names


def test_missing_few_names(store: BlobStore, write: Writer):
    stored = put_blobs(store, write, 3)
    asked = [*stored, fake_name(1), fake_name(2)]
    assert store.missing(asked) == {fake_name(1), fake_name(2)}
    assert store.missing([]) == set()
    assert store.missing(iter([stored[0]])) == set()


def test_missing_many_names(store: BlobStore, write: Writer):
    stored = put_blobs(store, write, 40)
    absent = {fake_name(i) for i in range(300)}
    asked = stored + sorted(absent)
    random.Random(0).shuffle(asked)
    assert store.missing(asked) == absent


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_missing_10000_names_is_fast(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, write: Writer
):
    if backend == "local":
        store = BlobStore.from_url(str(tmp_path / "store"))
    else:
        store = BlobStore.from_url(*request.getfixturevalue("s3_url"))
    stored = put_blobs(store, write, 20)
    absent = {fake_name(i) for i in range(10_000)}
    start = time.perf_counter()
    assert store.missing(stored + sorted(absent)) == absent
    assert time.perf_counter() - start < 2  # measured: local 0.02 s, moto S3 0.03 s


class CountingMemoryFS(MemoryFileSystem):  # type: ignore[misc]
    """The real memory filesystem, counting the requests ``missing`` makes."""

    calls: dict[str, int]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        self.calls["info"] = self.calls.get("info", 0) + 1
        return super().info(path, **kwargs)  # type: ignore[no-any-return]

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        self.calls["list"] = self.calls.get("list", 0) + 1
        return super().ls(path, detail=detail, **kwargs)

    def find(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self.calls["list"] = self.calls.get("list", 0) + 1
        return super().find(path, *args, **kwargs)


def test_missing_lists_the_store_instead_of_asking_per_name(write: Writer):
    fs = CountingMemoryFS(skip_instance_cache=True)
    fs.calls = {}
    store = BlobStore(fs, f"/gittrack-{uuid.uuid4().hex}")
    src, name = write(b"present")
    store.put_file(name, src)
    fs.calls.clear()
    assert store.missing([name, *(fake_name(i) for i in range(10_000))]) == {
        fake_name(i) for i in range(10_000)
    }
    assert fs.calls.get("info", 0) == 0
    assert fs.calls["list"] <= 3  # the store, or its root and the one shard folder there is


def test_delete(store: BlobStore, write: Writer, tmp_path: Path):
    src, name = write(b"doomed")
    store.put_file(name, src)
    store.delete(name)
    assert not store.exists(name)
    with pytest.raises(BlobNotFoundError):
        store.get_file(name, tmp_path / "out")
    store.delete(name)  # deleting what is not there is fine


def test_iter_blobs_lists_blobs_only(store: BlobStore, write: Writer):
    before = time.time()
    stored = {name: src.stat().st_size for src, name in (write(b"a" * i) for i in (0, 1, 70))}
    for name in stored:
        store.put_file(name, write(b"a" * stored[name])[0])
    # Strays a listing must skip: a file at the root, an unfinished upload, a non-hex name.
    some = next(iter(stored))
    for stray in ("README", f"{some[:2]}/{some[2:]}.tmp-0123", "zz/not-hex", "ab/cd/ef"):
        store.fs.makedirs(f"{store.root}/{stray}".rsplit("/", 1)[0], exist_ok=True)
        store.fs.pipe_file(f"{store.root}/{stray}", b"stray")
    blobs = sorted(store.iter_blobs(), key=lambda b: b.name)
    assert [(b.name, b.size) for b in blobs] == sorted(stored.items())
    for blob in blobs:
        assert isinstance(blob, BlobInfo)
        assert blob.modified is not None
        assert before - 5 < blob.modified < time.time() + 5


def test_iter_blobs_of_an_empty_store(store: BlobStore):
    assert list(store.iter_blobs()) == []
    assert store.missing([fake_name(1)]) == {fake_name(1)}


# -- atomicity --------------------------------------------------------------------------------


def test_a_reader_never_sees_a_partial_blob(store: BlobStore, write: Writer):
    if store.url.startswith("memory://"):
        # fsspec's MemoryFileSystem is not thread-safe: listing a file while another thread
        # writes it raises BufferError inside fsspec. Tests and single-threaded use only.
        pytest.skip("MemoryFileSystem does not allow a reader and a writer at once")
    # 40 MiB: several multipart parts on S3, a copy of tens of ms on a local disk.
    data = _random_bytes(40 << 20, 3)
    src, name = write(data)
    seen: set[int] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.update(b.size for b in store.iter_blobs() if b.name == name)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        store.put_file(name, src)
        time.sleep(0.05)
    finally:
        stop.set()
        watcher.join()
    assert seen <= {len(data)}
    assert [b.size for b in store.iter_blobs()] == [len(data)]


class BrokenUploadFS(LocalFileSystem):  # type: ignore[misc]
    """A real local filesystem whose upload dies halfway, like a dropped connection."""

    def put_file(self, lpath: str, rpath: str, **kwargs: Any) -> None:
        with open(lpath, "rb") as src, open(rpath, "wb") as dst:
            dst.write(src.read(10))
        raise ConnectionResetError(104, "Connection reset by peer")


def test_a_failed_upload_leaves_nothing(tmp_path: Path, write: Writer):
    store = BlobStore(BrokenUploadFS(skip_instance_cache=True), str(tmp_path / "store"))
    src, name = write(b"0123456789" * 100)
    with pytest.raises(StorageError, match="Connection reset by peer") as info:
        store.put_file(name, src)
    assert store.url in str(info.value)
    assert not store.exists(name)
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def test_a_failed_download_leaves_nothing(store: BlobStore, tmp_path: Path):
    out = tmp_path / "out"
    out.write_bytes(b"kept")
    with pytest.raises(BlobNotFoundError):
        store.get_file(fake_name(1), out)
    assert out.read_bytes() == b"kept"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["out"]


# -- errors -----------------------------------------------------------------------------------


def test_missing_blob_is_named(store: BlobStore, tmp_path: Path):
    name = fake_name(1)
    with pytest.raises(BlobNotFoundError, match=name) as info:
        store.get_file(name, tmp_path / "out")
    assert store.url in str(info.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(BlobNotFoundError, match=name):
        store.open(name)


def test_missing_or_unreadable_source(store: BlobStore, tmp_path: Path):
    with pytest.raises(UsageError, match="nope"):
        store.put_file(fake_name(1), tmp_path / "nope")
    with pytest.raises(UsageError, match="not a regular file"):
        store.put_file(fake_name(1), tmp_path)
    assert list(store.iter_blobs()) == []


def test_download_into_a_missing_folder(store: BlobStore, write: Writer, tmp_path: Path):
    src, name = write(b"x")
    store.put_file(name, src)
    with pytest.raises(UsageError, match="no such folder"):
        store.get_file(name, tmp_path / "absent" / "out")


def test_local_store_that_cannot_be_created(tmp_path: Path, write: Writer):
    # Tests run as root, for whom permissions never refuse: a regular file where the store's
    # folder should be refuses for everyone.
    (tmp_path / "file").write_text("not a folder")
    store = BlobStore.from_url(str(tmp_path / "file" / "store"))
    src, name = write(b"x")
    with pytest.raises(StorageError, match="cannot write blob") as info:
        store.put_file(name, src)
    assert not isinstance(info.value, BlobNotFoundError)
    assert str(tmp_path / "file" / "store") in str(info.value)


class ReadOnlyFS(LocalFileSystem):  # type: ignore[misc]
    """A real local filesystem mounted read-only, as a refusing server would be."""

    def put_file(self, lpath: str, rpath: str, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", rpath)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        raise OSError(30, "Read-only file system", path)


def test_storage_refusing_writes(tmp_path: Path, write: Writer):
    store = BlobStore(ReadOnlyFS(skip_instance_cache=True), str(tmp_path / "store"))
    src, name = write(b"x")
    with pytest.raises(StorageError, match="Read-only file system") as info:
        store.put_file(name, src)
    assert store.url in str(info.value)


def test_s3_bucket_that_does_not_exist(
    s3_url: tuple[str, dict[str, str]], write: Writer, tmp_path: Path
):
    _, options = s3_url
    store = BlobStore.from_url(f"s3://gittrack-no-such-{uuid.uuid4().hex[:8]}/store", options)
    src, name = write(b"x")
    with pytest.raises(StorageError, match="bucket does not exist") as info:
        store.put_file(name, src)
    assert not isinstance(info.value, BlobNotFoundError)
    assert "gittrack-no-such-" in str(info.value)


def test_s3_server_that_does_not_answer(write: Writer):
    options = {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "config_kwargs": {"retries": {"max_attempts": 1}},
    }
    store = BlobStore.from_url("s3://gittrack-unreachable/store", options)
    src, name = write(b"x")
    # exists() must not say "no" when it could not ask: that would re-upload, or worse.
    with pytest.raises(StorageError, match="Could not connect"):
        store.exists(name)
    with pytest.raises(StorageError, match="s3://gittrack-unreachable/store"):
        store.put_file(name, src)


# -- opening a URL ----------------------------------------------------------------------------


def test_unknown_protocol():
    with pytest.raises(StorageError, match=r"unknown storage protocol 'nosuch'.*nosuch://b/x"):
        BlobStore.from_url("nosuch://b/x")


def test_missing_backend_names_the_extra():
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed")
    with pytest.raises(StorageError, match=r"gs://bucket/x.*pip install 'gittrack\[gcs\]'"):
        BlobStore.from_url("gs://bucket/x")


def test_backend_that_fails_to_open():
    # fsspec's FTP filesystem connects in its constructor: nothing listens on this port.
    url = f"ftp://127.0.0.1:{free_port()}/store"
    with pytest.raises(StorageError, match=f"cannot open storage {url}: .*refused"):
        BlobStore.from_url(url)


def test_plain_paths_are_local_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    relative = BlobStore.from_url("blobs")
    assert relative.path("abcdef") == f"{tmp_path}/blobs/ab/cdef"
    assert relative.url == "blobs"
    home = BlobStore.from_url("~/blobs")
    assert home.path("abcdef") == f"{Path.home()}/blobs/ab/cdef"


def test_url_of_a_store_built_from_a_filesystem():
    fs = fsspec.filesystem("memory")
    assert BlobStore(fs, "/somewhere/").url == "memory:///somewhere"
    assert repr(BlobStore(fs, "/somewhere")) == "BlobStore('memory:///somewhere')"


# -- memory -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "s3"])
def test_transfers_stream_in_flat_memory(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
):
    # s3fs on its own reads a file under 100 MiB whole, and keeps 10 parts of 50 MiB in flight.
    if backend == "local":
        store = BlobStore.from_url(str(tmp_path / "store"))
    else:
        store = BlobStore.from_url(*request.getfixturevalue("s3_url"))
    size = 96 << 20  # alone, s3fs would hold all of it: put reads it whole
    src = tmp_path / "big"
    with src.open("wb") as f:
        for i in range(size // CHUNK):
            f.write(i.to_bytes(8, "little") * (CHUNK // 8))
    name = fake_name(0)
    tracemalloc.start()
    try:
        store.put_file(name, src)
        store.get_file(name, tmp_path / "back")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "back").stat().st_size == size
    assert peak < 100 << 20, f"peak {peak >> 20} MiB"


# -- the presence cache: what this machine has seen in the store --------------------------------


def counting_store(tmp_path: Path) -> tuple[BlobStore, CountingMemoryFS, PresenceCache]:
    fs = CountingMemoryFS(skip_instance_cache=True)
    fs.calls = {}
    seen = PresenceCache(tmp_path / f"presence-{uuid.uuid4().hex}.sqlite", "store")
    return BlobStore(fs, f"/gittrack-{uuid.uuid4().hex}", presence=seen), fs, seen


def test_trusted_missing_asks_only_a_sample_and_the_unknown(write: Writer, tmp_path: Path):
    store, fs, _ = counting_store(tmp_path)
    stored = put_blobs(store, write, 40)
    store.flush()
    fs.calls.clear()
    asked = [*stored, fake_name(1)]
    assert store.missing(asked, trust_seen=True) == {fake_name(1)}
    assert fs.calls.get("list", 0) == 0 and fs.calls["info"] <= 4 + 1  # sample + the unknown
    fs.calls.clear()
    assert store.missing(asked) == {fake_name(1)}  # untrusted: the store is listed
    assert fs.calls["list"] >= 1


def test_a_store_emptied_behind_our_back_is_checked_again(write: Writer, tmp_path: Path):
    store, fs, seen = counting_store(tmp_path)
    stored = put_blobs(store, write, 40)
    store.flush()
    fs.rm(store.root, recursive=True)  # not through gittrack
    names_ = set(stored)
    assert store.missing(names_, trust_seen=True) == names_
    assert seen.known(sorted(names_)) == set()


def test_delete_forgets_the_blob(store: BlobStore, write: Writer, tmp_path: Path):
    seen = PresenceCache(tmp_path / "presence.sqlite", "store")
    store = BlobStore(store.fs, store.root, store.url, presence=seen)
    src, name = write(b"doomed")
    store.put_file(name, src)
    store.flush()
    assert seen.known([name]) == {name}
    store.delete(name)
    assert seen.known([name]) == set()
    assert store.missing([name], trust_seen=True) == {name}


def test_delete_forgets_before_it_deletes(write: Writer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch):
    store, fs, seen = counting_store(tmp_path)
    src, name = write(b"half deleted")
    store.put_file(name, src)
    store.flush()

    def dies(path: str, **kwargs: Any) -> None:
        raise OSError("connection reset")  # the blob may or may not be gone

    monkeypatch.setattr(fs, "rm_file", dies)
    with pytest.raises(StorageError):
        store.delete(name)
    assert seen.known([name]) == set()  # never vouched for while a delete is in doubt


def test_delete_is_refused_when_the_presence_cache_cannot_forget(
    write: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    store, _, seen = counting_store(tmp_path)
    src, name = write(b"kept")
    store.put_file(name, src)
    store.flush()
    monkeypatch.setattr(seen._db, "write", lambda sql, rows, **_: False)  # locked past the timeout
    with pytest.raises(StorageError, match="presence cache"):
        store.delete(name)
    assert store.exists(name)


def test_an_untrusted_check_corrects_the_presence_cache(write: Writer, tmp_path: Path):
    store, fs, seen = counting_store(tmp_path)
    src, name = write(b"gone elsewhere")
    store.put_file(name, src)
    store.flush()
    fs.rm_file(store.path(name))  # another machine's gc, say
    assert store.missing([name]) == {name}  # what a push asks before it sends refs
    assert seen.known([name]) == set()
    store.put_file(name, src)
    assert store.missing([name], trust_seen=True) == set()
    assert seen.known([name]) == {name}


def test_from_url_keys_the_presence_cache_by_store(tmp_path: Path, write: Writer):
    db = tmp_path / "presence.sqlite"
    one = BlobStore.from_url(str(tmp_path / "one"), presence=db)
    two = BlobStore.from_url(str(tmp_path / "two"), presence=db)
    src, name = write(b"only in one")
    one.put_file(name, src)
    one.flush()
    assert two.missing([name], trust_seen=True) == {name}
    assert one.missing([name], trust_seen=True) == set()
