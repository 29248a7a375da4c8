"""Run blobs (media, console, code) across push and pull (issue 11). A blob that cannot be put
in the store at push time holds back only the refs that name it: a run whose media, console
or code blob is lost is not sent, named with the file and blob at fault, while the other runs
and artifacts go; once the blob is back, the next push sends it. `pull --media` downloads the
pulled runs' blobs at once (they read offline); a plain pull downloads each on first read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2
import pytest

import gittrack
from gittrack.errors import BlobNotFoundError
from gittrack.runs import layout
from gittrack.runs.run_storage import RunStorage
from gittrack.storage.entry import ManifestEntry
from gittrack.storage.project import open_storage
from tests.helpers.forge_runs import forge_stored_files, stored_file_entry
from tests.helpers.repos import MakeClone, refs_of
from tests.helpers.runs import log_run
from tests.helpers.storage import share_storage, store_names

FILES = {"media": layout.chunk_path(layout.MEDIA_DIR, "0", 1, 1),
         "console": layout.chunk_path(layout.CONSOLE_DIR, "0", 1, 1),
         "code": f"{layout.CODE_DIR}/manifest.parquet"}
LOST = "refs/gittrack/runs/lost"


@pytest.mark.parametrize("folder", list(FILES))
def test_a_run_naming_a_lost_blob_is_held_back_until_it_is_back(
        folder: str, bare_remote: Path, team_clone: Path, tmp_path: Path, cli: Any) -> None:
    a = team_clone  # a run that logged artifact data (alias best), its blob in the store
    entry = stored_file_entry(f"{folder}/sample/000001_0.png", b"lost bytes")
    assert entry.blob is not None
    forge_stored_files(a, "lost", [entry], file=FILES[folder])

    result = cli("push")

    assert result.exit_code == 8, result.stderr
    assert "sent 1 run, 1 artifact, 1 alias" in result.stdout
    assert (f"not sent: run lost: its file {entry.path} (blob {entry.blob[:12]}…) is neither "
            f"in the store {tmp_path / 'store'} nor on this machine") in result.stdout
    assert "held back 1 run" in result.stderr and entry.path in result.stderr
    pushed = refs_of(bare_remote)
    assert LOST not in pushed and len(pushed) == 3
    assert {r.removeprefix("refs/gittrack-remotes/origin/")
            for r in refs_of(a, "refs/gittrack-remotes/")} == \
        {r.removeprefix("refs/gittrack/") for r in refs_of(bare_remote, code=True)}  # landed

    (tmp_path / "found.png").write_bytes(b"lost bytes")  # from a backup, say
    open_storage(pygit2.Repository(str(a))).put_file(tmp_path / "found.png")
    again = cli("push")
    assert again.exit_code == 0, again.stderr
    assert "sent 1 run to" in again.stdout and "not sent" not in again.stdout
    assert refs_of(bare_remote) == refs_of(a)


def test_push_json_names_the_held_back_run(bare_remote: Path, team_clone: Path,
                                           cli: Any) -> None:
    entry = stored_file_entry("media/sample/000001_0.png", b"lost bytes")
    forge_stored_files(team_clone, "lost", [entry])
    result = cli("push", "--json")
    assert result.exit_code == 8
    report = json.loads(result.stdout)
    (held,) = report["held_back"]
    assert held["ref"] == LOST and held["run"] == "lost"
    assert (held["path"], held["blob"], held["lost"]) == (entry.path, entry.blob, True)
    assert "neither in the store" in held["reason"]
    assert LOST not in {s["ref"] for s in report["sent"]}
    assert len(report["sent"]) == 4  # the other run, its code ref, the artifact, its alias


def test_a_blob_only_in_the_local_cache_is_uploaded_by_push(
        bare_remote: Path, make_clone: MakeClone, s3_url: tuple[str, dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    share_storage(a, *s3_url)  # a remote store: a run's blobs wait in the cache for push
    log_run(a, fast_settings, data=None)
    entry = RunStorage(pygit2.Repository(str(a))).keep_bytes(b"pixels", "media/img/0_0.png")
    assert entry.blob is not None and store_names(a) == set()
    forge_stored_files(a, "pictures", [entry])
    monkeypatch.chdir(a)

    result = cli("push")

    assert result.exit_code == 0, result.stderr
    assert "uploaded 1 blob(s)" in result.stdout and "sent 2 runs" in result.stdout
    assert store_names(a) == {entry.blob}
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0
    cached = open_storage(pygit2.Repository(str(b))).cached(entry, what="media")
    assert cached.read_bytes() == b"pixels"


def _cached_files(clone: Path) -> set[str]:
    folder = clone / ".git" / "gittrack" / "cache" / "blobs"
    return {"".join(p.relative_to(folder).parts) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def pushed_media(bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object],
                 cli: Any) -> ManifestEntry:
    """Clone ``a`` pushed a run (``pictures``) whose media name one blob of the folder store
    ``tmp_path / "store"``, and a run that logged artifact ``data``; the media's entry."""
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "store"))
    log_run(a, fast_settings)
    entry = RunStorage(pygit2.Repository(str(a))).keep_bytes(b"pixels", "media/img/0_0.png")
    forge_stored_files(a, "pictures", [entry])
    monkeypatch.chdir(a)
    assert cli("push").exit_code == 0
    return entry


@pytest.mark.parametrize("eager", [True, False], ids=["--media", "lazy"])
def test_pull_media_downloads_the_runs_blobs_now_or_on_first_read(
        eager: bool, pushed_media: ManifestEntry, bare_remote: Path, make_clone: MakeClone,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    result = cli("pull", *(["--media"] if eager else []))
    assert result.exit_code == 0, result.stderr
    assert "refs/gittrack/runs/pictures" in refs_of(b)
    digest = str(pushed_media.digest)
    # --media takes the runs' blobs only: the artifact's waits for --artifacts or a read
    assert _cached_files(b) == ({digest} if eager else set())
    assert ("downloaded 1 blob(s)" in result.stdout) is eager

    (tmp_path / "store").rename(tmp_path / "away")  # offline: the store is out of reach
    storage = open_storage(pygit2.Repository(str(b)))
    if eager:
        assert storage.cached(pushed_media, what="media").read_bytes() == b"pixels"
    else:
        with pytest.raises(BlobNotFoundError, match=r"0_0\.png"):
            storage.cached(pushed_media, what="media")
        (tmp_path / "away").rename(tmp_path / "store")
        assert storage.cached(pushed_media, what="media").read_bytes() == b"pixels"  # lazily


def test_images_logged_pushed_pulled_with_media_then_shown_and_exported_offline(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, fast_settings: dict[str, object], cli: Any) -> None:
    np = pytest.importorskip("numpy")
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "store"))
    pixels = [np.full((4, 6, 3), i * 40, dtype=np.uint8) for i in range(3)]
    with gittrack.init(repo=str(a), settings=fast_settings) as run:
        for i, image in enumerate(pixels):
            run.log({"loss": 1.0 / (i + 1), "samples": gittrack.Image(image)})
    monkeypatch.chdir(a)
    assert cli("push").exit_code == 0
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert "downloaded 3 blob(s)" in cli("pull", "--media").stdout

    (tmp_path / "store").rename(tmp_path / "away")  # offline from here on
    shown = json.loads(cli("show", run.id, "--media", "--json").stdout)
    assert [(k["key"], k["type"], k["count"], k["first_step"], k["last_step"])
            for k in shown] == [("samples", "image", 3, 0, 2)]
    got = list(gittrack.Api(str(b)).run(run.id).media("samples"))
    assert [step for step, _ in got] == [0, 1, 2]
    for (_, image), expected in zip(got, pixels, strict=True):
        np.testing.assert_array_equal(image.numpy(), expected)
    result = cli("export", run.id, "-o", "out")
    assert result.exit_code == 0, result.stderr
    folder = b / "out" / run.id
    written = sorted(p.relative_to(folder).as_posix() for p in (folder / "media").rglob("*.png"))
    assert len(written) == 3 and all(p.startswith("media/samples/") for p in written)
    assert (folder / "media.csv").read_text().count("\n") == 4  # a header and three rows
