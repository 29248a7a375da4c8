"""Failure injection: each ends in a clear message and a consistent state, and the retry
succeeds — the git remote rejecting, a blob missing on the store, the storage server
stopping in the middle of a push."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gittrack.blobs.store import BlobStore
from gittrack.storage.config import save_storage
from tests.helpers import servers
from tests.helpers.repos import MakeClone, refs_of
from tests.helpers.runs import log_run


def test_remote_rejects_the_push(bare_remote: Path, team_clone: Path, cli: Any) -> None:
    a = team_clone
    hook = bare_remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'quota exceeded' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = cli("push")
    assert result.exit_code == 10 and "rejected" in result.stderr
    assert "quota exceeded" in result.stderr
    assert refs_of(bare_remote) == {}  # atomic: nothing landed
    assert refs_of(a, "refs/gittrack-remotes/") == {}  # the mirror did not pretend it did
    hook.unlink()
    assert "sent 1 run, 1 artifact, 1 alias" in cli("push").stdout
    assert refs_of(bare_remote) == refs_of(a)


def test_a_blob_missing_on_the_store(bare_remote: Path, team_clone: Path, tmp_path: Path,
                                     cli: Any) -> None:
    (blob,) = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    backup = tmp_path / "backup"
    shutil.move(blob, backup)
    (team_clone / "data.csv").write_text("edited since")  # the bytes are nowhere on this machine
    result = cli("push")
    assert result.exit_code == 8 and "data.csv" in result.stderr
    # only the artifact and its alias, which name the blob, are held back; the run goes
    assert "held back 1 artifact, 1 alias" in result.stderr
    assert "not sent: artifact data: its file data.csv" in result.stdout
    assert "sent 1 run, 1 code commit to" in result.stdout
    assert set(refs_of(bare_remote)) == {f"refs/gittrack/runs/{_run(team_clone)}"}
    shutil.move(backup, blob)
    assert "sent 1 artifact, 1 alias" in cli("push").stdout
    assert refs_of(bare_remote) == refs_of(team_clone)


def _run(clone: Path) -> str:
    (ref,) = refs_of(clone, "refs/gittrack/runs/")
    return ref.removeprefix("refs/gittrack/runs/")


@pytest.fixture
def killable_s3(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A moto server of this test's own, which the test may stop and start again."""
    port = servers.free_port()
    state: dict[str, Any] = {"port": port, "url": f"http://127.0.0.1:{port}"}

    def start() -> None:
        state["proc"] = servers.start_moto(port, tmp_path / "moto.log")
        import fsspec

        fsspec.filesystem("s3", key="testing", secret="testing", endpoint_url=state["url"],
                          skip_instance_cache=True).mkdir("bucket")

    def stop() -> None:
        state["proc"].kill()
        state["proc"].wait()

    state["start"], state["stop"] = start, stop
    start()
    yield state
    if state["proc"].poll() is None:
        stop()


@pytest.mark.slow
def test_storage_server_stops_in_the_middle_of_a_push(
        bare_remote: Path, make_clone: MakeClone, killable_s3: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    for name in ("one", "two", "three"):  # blobs in this clone's default store
        log_run(a, fast_settings, data=f"{name}\n", name=name)
    options = {"key": "testing", "secret": "testing", "endpoint_url": killable_s3["url"],
               "skip_instance_cache": True}
    save_storage(pygit2.Repository(str(a)), "s3://bucket/store", options, local=True)

    real_put = BlobStore.put_file
    calls = []

    def put_then_die(self: BlobStore, name: str, path: Path, **kwargs: Any) -> None:
        calls.append(name)
        if len(calls) == 2:
            killable_s3["stop"]()  # the network goes away mid-push
        real_put(self, name, path, **kwargs)

    monkeypatch.setattr(BlobStore, "put_file", put_then_die)
    monkeypatch.chdir(a)
    result = cli("push")
    assert result.exit_code == 8 and "s3://bucket/store" in result.stderr
    # no ref names a blob the store may lack: the runs (which name none) went; the artifact
    # whose upload the stop cut is held back with its alias (an upload that finished before
    # the stop, in another worker, may have let its own artifact go)
    remote = set(refs_of(bare_remote))
    assert set(refs_of(a, "refs/gittrack/runs/")) <= remote <= set(refs_of(a))
    sent = {r.rsplit("/", 1)[1] for r in remote if r.startswith("refs/gittrack/artifacts/")}
    assert len(sent) < 3
    assert {r.rsplit("/", 2)[1] for r in remote if r.startswith("refs/gittrack/aliases/")} == sent

    monkeypatch.setattr(BlobStore, "put_file", real_put)
    killable_s3["start"]()  # back, and (moto keeps nothing) empty: the rest goes now
    result = cli("push")
    assert result.exit_code == 0, result.stderr
    assert f"uploaded {3 - len(sent)} blob(s)" in result.stdout
    assert refs_of(bare_remote) == refs_of(a)
