"""Media blobs are reachable like artifact blobs: a fresh clone reads them after push and
pull (from a folder store and from a store that only push fills), gc keeps them, purge removes
them, and a private project's media blob opens with the real `age` command line."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pygit2
import pytest
import yaml

import gittrack
from gittrack.crypto.identity import init_user_identity
from gittrack.crypto.keys import Keyring
from gittrack.runs import media_index
from gittrack.runs.resolve import resolve_run
from gittrack.storage.project import open_storage
from gittrack.sync.gc import collect
from gittrack.sync.purge import purge
from tests.helpers.repos import MakeClone, git, git_objects_contain
from tests.helpers.storage import share_storage, store_names
from tests.helpers.tools import age_cli


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return str(result.stdout)


def images(seed: int, count: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (8, 10, 3), dtype=np.uint8) for _ in range(count)]


def media_run(where: Path, arrays: list[np.ndarray], **init: Any) -> str:
    run = gittrack.init(repo=str(where), settings={"quiet": True}, **init)
    for i, a in enumerate(arrays):
        run.log({"img": gittrack.Image(a, caption=f"#{i}"), "loss": float(i)})
    run.log({"note": gittrack.Text("a note")})
    run.finish()
    return run.id


def read_back(where: Path, run_id: str) -> list[tuple[int, Any]]:
    return list(gittrack.Api(str(where)).run(run_id).media("img"))


def blob_names(where: Path, run_id: str) -> set[str]:
    r = pygit2.Repository(str(where))
    commit = r.references[f"refs/gittrack/runs/{run_id}"].target
    return {str(row.entry.blob) for row in media_index.read_rows(r, str(commit))}


@pytest.mark.parametrize("store", ["folder", "memory"])
def test_round_trip_through_a_fresh_clone(
        store: str, bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    url = (str(tmp_path / "team-store") if store == "folder"
           else f"memory://gittrack-{uuid.uuid4().hex}/store")
    a = make_clone("a", str(bare_remote))
    share_storage(a, url)
    arrays = images(1)
    run_id = media_run(a, arrays)
    monkeypatch.chdir(a)
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("pull"))
    assert not (b / ".git" / "gittrack" / "cache" / "blobs").exists() or not any(
        p.is_file() for p in (b / ".git" / "gittrack" / "cache" / "blobs").rglob("*"))
    got = read_back(b, run_id)  # fetched lazily, on first read
    assert [s for s, _ in got] == [0, 1, 2]
    for (_, image), a_ in zip(got, arrays, strict=True):
        np.testing.assert_array_equal(image.numpy(), a_)
    assert [x.data for _, x in gittrack.Api(str(b)).run(run_id).media("note")] == ["a note"]


def test_gc_keeps_media_blobs_and_purge_removes_them(repo: Path) -> None:
    kept = media_run(repo, images(2))
    victim = media_run(repo, images(3))
    r = pygit2.Repository(str(repo))
    kept_blobs, victim_blobs = blob_names(repo, kept), blob_names(repo, victim)
    assert len(kept_blobs) == 4 and len(victim_blobs) == 4
    assert kept_blobs | victim_blobs <= store_names(repo)
    report = collect(r, grace=0)
    assert report.removed == ()
    assert kept_blobs | victim_blobs <= store_names(repo)
    purge(r, resolve_run(r, victim), remote=None)
    names = store_names(repo)
    assert kept_blobs <= names and not (victim_blobs - kept_blobs) & names
    for _, image in read_back(repo, kept):
        assert image.numpy().shape == (8, 10, 3)


def test_private_media_blob_opens_with_the_age_command_line(
        private_repo: pygit2.Repository, repo: Path, tmp_path: Path) -> None:
    arrays = images(4, count=1)
    run_id = media_run(repo, arrays)
    r = pygit2.Repository(str(repo))
    commit = r.references[f"refs/gittrack/runs/{run_id}"].target
    row = next(x for x in media_index.read_rows(r, str(commit)) if x.key == "img")
    # user key -> project key (the keyring's wrapped identity) -> the blob, with `age` only
    _, user_identity, _ = init_user_identity()
    wrapped = Keyring.for_repo(r).root / "project.age"
    payload = yaml.safe_load(age_cli("-d", "-i", str(user_identity), str(wrapped)))
    project_identity = tmp_path / "project.txt"
    project_identity.write_text("\n".join(payload["identities"]) + "\n")
    stored = tmp_path / "blob.age"
    assert row.entry.blob is not None
    open_storage(r).store.get_file(row.entry.blob, stored)
    assert stored.read_bytes()[:21] == b"age-encryption.org/v1"
    plain = age_cli("-d", "-i", str(project_identity), str(stored))
    assert hashlib.sha256(plain).hexdigest() == row.entry.digest
    (tmp_path / "decrypted.png").write_bytes(plain)
    back = gittrack.Image(tmp_path / "decrypted.png")
    from gittrack.formats.media import base

    (payload_,) = back.payloads("img")
    enc = base.encode(payload_)
    np.testing.assert_array_equal(
        base.decode(enc.data, base.Stored("image", "png", 10, 8, None, None, {})).numpy(),
        arrays[0])
    # the blob's name is keyed: not the digest of the content
    assert row.entry.blob != row.entry.digest


def test_private_annotations_round_trip_through_a_fresh_clone(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    """An image's boxes and masks of a private project travel as an encrypted blob of the
    store: a fresh clone (same user) reads them back equal; no git object holds them."""
    a = make_clone("a", str(bare_remote))
    Keyring.for_repo(pygit2.Repository(str(a))).init("me", init_user_identity()[0])
    git(a, "add", ".gittrack")
    share_storage(a, str(tmp_path / "team-store"))  # commits the keyring too, and pushes
    rng = np.random.default_rng(7)
    pixels = images(7, count=1)[0]
    mask = rng.integers(0, 600, (8, 10))
    caption = f"box-{uuid.uuid4().hex}"
    boxes = {"p": {"box_data": [{"position": {"minX": 1, "maxX": 4, "minY": 2, "maxY": 6},
                                 "domain": "pixel", "class_id": 2, "box_caption": caption,
                                 "scores": {"iou": 0.8125}}],
                   "class_labels": {2: "two"}}}
    run = gittrack.init(repo=str(a), settings={"quiet": True})
    run.log({"seg": gittrack.Image(pixels, boxes=boxes,
                                   masks={"m": {"mask_data": mask, "class_labels": {1: "a"}}})})
    run.finish()
    monkeypatch.chdir(a)
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("pull"))
    ((_, image),) = gittrack.Api(str(b)).run(run.id).media("seg")
    np.testing.assert_array_equal(image.numpy(), pixels)
    assert image.boxes == {"p": {"box_data": boxes["p"]["box_data"], "class_labels": {2: "two"}}}
    assert image.masks is not None and image.masks["m"]["class_labels"] == {1: "a"}
    np.testing.assert_array_equal(image.masks["m"]["mask_data"], mask)
    for clone in (a, b, bare_remote):
        assert not git_objects_contain(clone, caption.encode())
    stored = [p.read_bytes() for p in (tmp_path / "team-store").rglob("*") if p.is_file()]
    assert len(stored) >= 2 and all(s.startswith(b"age-encryption.org/v1") for s in stored)
    assert not any(caption.encode() in s for s in stored)
