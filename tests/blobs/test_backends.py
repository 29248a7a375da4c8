from __future__ import annotations

from datetime import datetime, timezone

import fsspec
import pytest

from gittrack.blobs import backends
from gittrack.errors import StorageError

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "info",
    [
        {"mtime": WHEN.timestamp()},  # local
        {"LastModified": WHEN},  # s3fs
        {"last_modified": WHEN},  # adlfs
        {"updated": "2024-05-01T12:00:00Z"},  # gcsfs
        {"created": WHEN.timestamp()},  # memory
    ],
)
def test_modified_time_whatever_the_backend_calls_it(info: dict[str, object]):
    assert backends.modified(info) == WHEN.timestamp()


def test_no_modified_time():
    assert backends.modified({"size": 3}) is None
    assert backends.modified({"updated": "yesterday"}) is None


def test_reason_is_one_line():
    assert backends.reason(PermissionError(13, "Permission denied", "/x")) == "Permission denied"
    assert backends.reason(OSError("first\nsecond")) == "first"
    assert backends.reason(RuntimeError()) == "RuntimeError"


def test_errors_include_loaded_backends():
    import botocore.exceptions

    found = backends.errors()
    assert OSError in found
    assert botocore.exceptions.BotoCoreError in found


def test_which_backends_put_atomically():
    assert backends.puts_atomically(fsspec.filesystem("s3", anon=True))
    assert not backends.puts_atomically(fsspec.filesystem("file"))
    assert not backends.puts_atomically(fsspec.filesystem("memory"))


def test_s3_downloads_are_one_stream():
    # s3fs would fetch ranges of 50 MiB, 10 at once, each held whole in memory.
    assert backends.get_options(fsspec.filesystem("s3", anon=True)) == {"max_concurrency": 1}
    assert backends.get_options(fsspec.filesystem("file")) == {}


def test_open_url_disables_listing_caches(tmp_path):
    fs, root = backends.open_url(str(tmp_path), None)
    assert root == str(tmp_path)
    assert fs.dircache.use_listings_cache is False


def test_open_url_unknown_protocol_lists_known_ones():
    with pytest.raises(StorageError, match=r"known: .*s3"):
        backends.open_url("nosuch://x", None)


def test_open_url_names_the_options_when_a_backend_refuses_them():
    """A constructor's exception (here ftplib's: nothing listens) is a StorageError naming
    the URL without credentials and the options given."""
    from tests.helpers.servers import free_port

    url = f"ftp://user:SECRETPW@127.0.0.1:{free_port()}/store"
    with pytest.raises(StorageError) as raised:
        backends.open_url(url, {"timeout": 5, "encoding": "utf-8"})
    message = str(raised.value)
    assert "SECRETPW" not in message and "ftp://127.0.0.1" in message
    assert "encoding, timeout" in message and "\n" not in message
