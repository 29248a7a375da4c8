"""Media in a live run: logged, spooled, committed, indexed, read back; bad input refused."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gittrack
from gittrack.errors import InvalidValueError
from gittrack.git.repo import discover
from gittrack.runs import media_index
from gittrack.runs.view import RunView
from gittrack.runs.wal import wal_root
from gittrack.storage.project import open_storage
from tests.helpers.repos import all_objects, git, git_objects_contain
from tests.helpers.runs import start_run


def view(run_id: str) -> RunView:
    return gittrack.Api(".").run(run_id)


def noise(h: int = 16, w: int = 12, c: int = 3, seed: int = 0) -> np.ndarray:
    shape = (h, w) if c == 0 else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_image_logged_and_read_back(repo: Path) -> None:
    run = start_run()
    arrays = [noise(seed=i) for i in range(3)]
    for i, a in enumerate(arrays):
        run.log({"img": gittrack.Image(a, caption=f"step {i}"), "loss": float(i)})
    run.finish()
    v = view(run.id)
    got = list(v.media("img"))
    assert [s for s, _ in got] == [0, 1, 2]
    for (_, image), a, i in zip(got, arrays, range(3), strict=True):
        assert isinstance(image, gittrack.Image)
        np.testing.assert_array_equal(image.numpy(), a)
        assert image.caption == f"step {i}"
        assert image.format == "png"
        assert image.bytes.startswith(b"\x89PNG")
    assert v.history(format="arrow").column("loss").to_pylist() == [0.0, 1.0, 2.0]
    assert v.media_keys() == ["img"]


def test_step_is_the_step_of_the_scalars(repo: Path) -> None:
    run = start_run()
    run.log({"a": 1.0})                                   # step 0
    run.log({"img": gittrack.Image(noise())}, commit=False)  # step 1, left open
    run.log({"b": 2.0})                                   # step 1, committed
    run.log({"img": gittrack.Image(noise(seed=1))}, step=10)
    run.log({"img": gittrack.Image(noise(seed=2))})       # merges into step 10
    run.log({"img": gittrack.Image(noise(seed=3))}, step=12)
    run.finish()
    steps = [s for s, _ in view(run.id).media("img")]
    assert steps == [1, 10, 10, 12]


def test_list_is_one_entry_of_several_items(repo: Path) -> None:
    run = start_run()
    arrays = [noise(seed=i) for i in range(3)]
    run.log({"examples": [gittrack.Image(a) for a in arrays]})
    run.log({"examples": [gittrack.Image(arrays[0])]})
    run.finish()
    got = list(view(run.id).media("examples"))
    assert len(got) == 2
    step, items = got[0]
    assert step == 0 and isinstance(items, list) and len(items) == 3
    for image, a in zip(items, arrays, strict=True):
        np.testing.assert_array_equal(image.numpy(), a)
    assert isinstance(got[1][1], list) and len(got[1][1]) == 1
    rows = media_index.read_rows(discover("."), view(run.id).commit)
    assert [r.item for r in rows] == [0, 1, 2, 0]


def test_nested_key_and_text(repo: Path) -> None:
    run = start_run()
    run.log({"val": {"pred": gittrack.Image(noise()), "acc": 0.5},
             "note": gittrack.Text("hello"), "page": gittrack.Html("<b>hi</b>")})
    run.finish()
    v = view(run.id)
    assert sorted(v.media_keys()) == ["note", "page", "val/pred"]
    assert [x.data for _, x in v.media("note")] == ["hello"]
    (_, page), = v.media("page")
    assert isinstance(page, gittrack.Html) and page.data == "<b>hi</b>"
    assert v.history(format="arrow").column("val/acc").to_pylist() == [0.5]


@pytest.mark.parametrize("bad", [
    np.zeros((0, 4, 3), np.uint8), np.full((4, 4), np.nan), np.full((4, 4), 2.0),
    np.zeros((5, 4, 5), np.uint8), np.zeros((4,), np.uint8), "missing.png", object(),
])
def test_bad_image_refused_before_anything_is_recorded(repo: Path, bad: object) -> None:
    run = start_run()
    run.log({"loss": 1.0})
    with pytest.raises(InvalidValueError, match="'img'"):
        run.log({"img": gittrack.Image(bad), "loss": 2.0})
    assert run.step == 1
    spooled = [p for p in (wal_root(Path(".git/gittrack")) / run.id).iterdir()
               if p.suffix == ".media"]
    assert spooled == []
    run.log({"img": gittrack.Image(noise()), "loss": 3.0})
    run.finish()
    v = view(run.id)
    assert v.history(format="arrow").column("loss").to_pylist() == [1.0, 3.0]
    assert [s for s, _ in v.media("img")] == [1]


def test_mixed_list_refused_naming_key(repo: Path) -> None:
    run = start_run()
    with pytest.raises(InvalidValueError, match="'examples'"):
        run.log({"examples": [gittrack.Image(noise()), 3]})
    run.finish()
    assert view(run.id).media_keys() == []


def test_spool_files_deleted_after_commit(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 3600, "quiet": True})
    run.log({"img": gittrack.Image(noise())})
    folder = wal_root(Path(".git/gittrack")) / run.id
    assert [p.name for p in folder.iterdir() if p.suffix == ".media"] == [
        f"{2:016d}-0.media"] or any(p.suffix == ".media" for p in folder.iterdir())
    run._checkpoint()
    assert not any(p.suffix == ".media" for p in folder.iterdir())
    run.finish()
    assert len(list(view(run.id).media("img"))) == 1


def test_no_content_in_git(repo: Path) -> None:
    run = start_run()
    marker = os.urandom(16).hex()
    run.log({"t": gittrack.Text(marker)})
    run.finish()
    assert not git_objects_contain(repo, marker.encode())
    assert [x.data for _, x in view(run.id).media("t")] == [marker]


def test_every_input_form_through_a_run(repo: Path, tmp_path: Path) -> None:
    import matplotlib
    import torch
    from PIL import Image as PILImage

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = noise()
    jpg = tmp_path / "photo.jpg"
    PILImage.fromarray(a).save(jpg)
    fig, ax = plt.subplots(figsize=(1, 1), dpi=40)
    ax.plot([0, 1])
    t = torch.rand(3, 4, 5)
    run = start_run()
    run.log({"np": gittrack.Image(a), "pil": gittrack.Image(PILImage.fromarray(a)),
             "torch": gittrack.Image(t), "file": gittrack.Image(str(jpg)), "fig": fig,
             "figs": [fig, fig]})
    plt.close(fig)
    run.finish()
    v = view(run.id)
    got = {k: next(iter(v.media(k)))[1] for k in v.media_keys()}
    np.testing.assert_array_equal(got["np"].numpy(), a)
    np.testing.assert_array_equal(got["pil"].numpy(), a)
    np.testing.assert_array_equal(got["torch"].numpy(),
                                  (t.numpy().transpose(1, 2, 0) * 255).astype(np.uint8))
    assert got["file"].format == "jpg" and got["file"].bytes == jpg.read_bytes()
    assert got["fig"].format == "png" and got["fig"].numpy().shape[:2] == (40, 40)
    assert len(got["figs"]) == 2


def test_killed_right_after_log_returned_recovery_commits_the_media(repo: Path) -> None:
    from tests.helpers.processes import killed

    script = (
        "import os, signal, numpy as np, gittrack\n"
        "run = gittrack.init(settings={'quiet': True, 'checkpoint_interval': 3600})\n"
        "print(run.id, flush=True)\n"
        "for i in range(3):\n"
        "    run.log({'img': gittrack.Image(np.full((4, 6, 3), i * 40, np.uint8)),"
        " 'x': i})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    run_id = killed(script, repo).stdout.strip()
    folder = wal_root(Path(".git/gittrack")) / run_id
    assert len([p for p in folder.iterdir() if p.suffix == ".media"]) == 3
    from gittrack.runs.recover import recover_dead_runs

    assert recover_dead_runs(discover(".")) == [run_id]
    v = view(run_id)
    assert v.state == "crashed"
    got = list(v.media("img"))
    assert [s for s, _ in got] == [0, 1, 2]
    for i, (_, image) in enumerate(got):
        np.testing.assert_array_equal(image.numpy(), np.full((4, 6, 3), i * 40, np.uint8))
    assert not folder.exists()


def test_resumed_run_keeps_logging_media(repo: Path) -> None:
    run = start_run()
    run.log({"img": gittrack.Image(noise())})
    run.finish()
    again = gittrack.init(id=run.id, resume="must", settings={"quiet": True})
    again.log({"img": gittrack.Image(noise(seed=1))})
    again.finish()
    got = list(view(run.id).media("img"))
    assert [s for s, _ in got] == [0, 1]
    np.testing.assert_array_equal(got[1][1].numpy(), noise(seed=1))


def test_a_full_disk_refuses_the_call_and_the_run_goes_on(
        small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers.disks import fill, unfill
    from tests.helpers.repos import make_repo

    project = make_repo(small_disk / "project")
    monkeypatch.chdir(project)
    run = gittrack.init(settings={"quiet": True, "checkpoint_interval": 3600})
    run.log({"img": gittrack.Image(noise()), "x": 0})
    fill(small_disk)
    with pytest.raises(gittrack.RepositoryError, match="nothing of this call was recorded"):
        run.log({"img": gittrack.Image(noise(256, 256)), "x": 1})
    folder = project / ".git" / "gittrack" / "wal" / run.id
    assert len([p for p in folder.iterdir() if p.suffix == ".media"]) == 1
    unfill(small_disk)
    run.log({"img": gittrack.Image(noise(seed=2)), "x": 2})
    run.finish()
    v = view(run.id)
    assert [s for s, _ in v.media("img")] == [0, 1]
    assert v.history(format="arrow").column("x").to_pylist() == [0, 2]


def test_index_chunks_are_compacted_and_read_in_order(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 3600, "quiet": True})
    for i in range(40):  # 40 checkpoints: level-0 chunks are merged (16 at a time)
        run.log({"t": gittrack.Text(f"n{i}"), "weird/../key": gittrack.Text("x")})
        run._checkpoint()
    run.finish()
    v = view(run.id)
    tree = discover(".").revparse_single(v.commit).tree
    merged = [e.name for e in tree["media"]]
    assert any(name != "0" for name in merged)  # some chunks were merged
    assert [(s, x.data) for s, x in v.media("t")] == [(i, f"n{i}") for i in range(40)]
    rows = media_index.read_rows(discover("."), v.commit, "weird/../key")
    assert len(rows) == 40
    assert all(r.path.startswith("media/weird%2F..%2Fkey/") for r in rows)


@pytest.mark.parametrize("chunk", [b"not parquet", "forged-row"])
def test_a_forged_index_is_named_and_listings_go_on(repo: Path, chunk: object) -> None:
    import hashlib

    from gittrack.errors import FormatError
    from gittrack.formats import table
    from gittrack.storage.entry import ManifestEntry
    from tests.helpers.forge_runs import forge_run, run_yaml

    good = start_run()
    good.log({"img": gittrack.Image(noise())})
    good.finish()
    if chunk == "forged-row":
        digest = hashlib.sha256(b"x").hexdigest()
        row = media_index.MediaRow("img", 0, "image", 0, ManifestEntry(
            "media/img/../../../etc/0_1_0.png", digest, 1, digest), format="png")
        data = table.encode(media_index.table_of([row]))
    else:
        assert isinstance(chunk, bytes)
        data = chunk
    forge_run(repo, "forged", {"run.yaml": run_yaml("forged"), "media/0/000000.parquet": data})
    api = gittrack.Api(".")
    assert {r.id for r in api.runs()} >= {good.id, "forged"}
    with pytest.raises(FormatError, match=r"media/0/000000\.parquet"):
        list(api.run("forged").media("img"))
    assert len(list(api.run(good.id).media("img"))) == 1


def test_numpy_str_key_and_caption_are_recovered(repo: Path) -> None:
    from tests.helpers.processes import killed

    script = (
        "import os, signal, numpy as np, gittrack\n"
        "run = gittrack.init(settings={'quiet': True, 'checkpoint_interval': 3600})\n"
        "print(run.id, flush=True)\n"
        "run.log({np.str_('k'): gittrack.Image(np.zeros((2, 2), np.uint8),"
        " caption=np.str_('c'))})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    run_id = killed(script, repo).stdout.strip()
    from gittrack.runs.recover import recover_dead_runs

    assert recover_dead_runs(discover(".")) == [run_id]
    ((step, image),) = view(run_id).media("k")
    assert step == 0 and image.caption == "c"


def annotated(seed: int) -> tuple[np.ndarray, dict[str, Any], dict[str, Any]]:
    """An image with boxes (a caption and a score no other test writes) and two masks (random
    16-bit class maps: their raw bytes appear nowhere by chance)."""
    rng = np.random.default_rng(seed)
    boxes = {"predictions": {"box_data": [
        {"position": {"minX": 0.1, "maxX": 0.6, "minY": 0.2, "maxY": 0.9}, "class_id": 1,
         "box_caption": f"caption-{seed}-{os.urandom(6).hex()}",
         "scores": {"conf": float(rng.random())}}],
        "class_labels": {1: f"label-{os.urandom(6).hex()}"}}}
    masks = {"truth": {"mask_data": rng.integers(0, 1000, (16, 12)),
                       "class_labels": {0: "bg"}},
             "pred": {"mask_data": rng.integers(0, 3, (16, 12)).astype(np.uint8)}}
    return noise(seed=seed), boxes, masks


def assert_annotations_equal(image: Any, boxes: dict[str, Any], masks: dict[str, Any]) -> None:
    assert isinstance(image, gittrack.Image)
    assert image.boxes is not None and image.masks is not None
    (box,) = image.boxes["predictions"]["box_data"]
    (given,) = boxes["predictions"]["box_data"]
    assert box == given
    assert image.boxes["predictions"]["class_labels"] == boxes["predictions"]["class_labels"]
    assert set(image.masks) == set(masks)
    for name, mask in masks.items():
        np.testing.assert_array_equal(image.masks[name]["mask_data"], mask["mask_data"])
        assert image.masks[name]["class_labels"] == mask.get("class_labels", {})


def run_objects(repo: Path, run_id: str) -> bytes:
    """Every object the run's commits reach (commits, trees, blobs), with each Parquet blob's
    columns also as text (a Parquet file compresses what it holds)."""
    import pyarrow.parquet as pq

    listed = git(repo, "rev-list", "--objects", "--no-object-names",
                 f"refs/gittrack/runs/{run_id}").split()
    assert listed
    out = []
    for oid in listed:
        data = subprocess.run(["git", "cat-file", "-p", oid], cwd=repo, capture_output=True,
                              check=True).stdout
        out.append(data)
        if data.startswith(b"PAR1"):
            out.append(repr(pq.read_table(io.BytesIO(data)).to_pylist()).encode())
    return b"\n".join(out)


def test_boxes_and_masks_read_back_as_logged(repo: Path) -> None:
    run = start_run()
    single, listed = annotated(1), [annotated(2), annotated(3)]
    run.log({"det": gittrack.Image(single[0], boxes=single[1], masks=single[2])})
    run.log({"many": [gittrack.Image(a, boxes=b, masks=m) for a, b, m in listed]
             + [gittrack.Image(noise(seed=9))]})
    table = gittrack.Table(columns=["id", "image"])
    table.add_data(0, gittrack.Image(single[0], boxes=single[1], masks=single[2]))
    table.add_data(1, gittrack.Image(noise(seed=8)))
    run.log({"table": table})
    run.finish()
    v = view(run.id)
    assert v.media_keys() == ["det", "many", "table"]
    ((_, back),) = v.media("table")
    assert isinstance(back, gittrack.Table) and back.get_column("id") == [0, 1]
    cells = back.get_column("image")
    assert_annotations_equal(cells[0], single[1], single[2])
    assert cells[1].masks is None
    np.testing.assert_array_equal(cells[1].numpy(), noise(seed=8))
    ((step, image),) = v.media("det")
    assert step == 0
    assert_annotations_equal(image, single[1], single[2])
    np.testing.assert_array_equal(image.numpy(), single[0])
    ((_, images),) = v.media("many")
    assert isinstance(images, list) and len(images) == 3
    for got, (pixels, boxes, masks) in zip(images, listed, strict=False):
        assert_annotations_equal(got, boxes, masks)
        np.testing.assert_array_equal(got.numpy(), pixels)
    assert images[2].boxes is None and images[2].masks is None
    rows = media_index.read_rows(discover("."), v.commit, "many")
    assert [(r.item, r.type) for r in rows] == [
        (0, "image"), (1, "image-annotations"), (2, "image"), (3, "image-annotations"),
        (4, "image")]
    assert rows[0].meta["annotations"] == {"offset": 1, "boxes": {"predictions": 1},
                                           "masks": ["truth", "pred"]}
    assert set(rows[1].meta) <= {"_items"}


def test_show_media_counts_an_annotated_image_once(repo: Path, cli: Any) -> None:
    run = start_run()
    pixels, boxes, masks = annotated(4)
    run.log({"det": gittrack.Image(pixels, boxes=boxes, masks=masks)})
    run.finish()
    result = cli("show", run.id, "--media", "--json")
    assert result.exit_code == 0, result.stderr
    (shown,) = json.loads(result.stdout)
    rows = view(run.id).media_rows()
    assert shown == {"key": "det", "type": "image", "count": 1, "first_step": 0,
                     "last_step": 0, "bytes": sum(r.entry.size for r in rows)}
    assert len(rows) == 2


def test_private_annotations_never_enter_git(private_repo: Any, repo: Path) -> None:
    """An image with boxes and masks in a private project: no object of the run's commits
    (nor any object of the repository) holds a mask (its PNG, its base64, its raw class map),
    a box caption, a score or a class label; the store holds them encrypted, and
    ``media(key)`` reads them back equal."""
    run = start_run()
    pixels, boxes, masks = annotated(5)
    run.log({"det": gittrack.Image(pixels, boxes=boxes, masks=masks)})
    run.finish()
    v = view(run.id)
    ((_, image),) = v.media("det")
    assert_annotations_equal(image, boxes, masks)
    rows = v.media_rows("det")
    sidecar = next(r for r in rows if r.type == "image-annotations")
    document = json.loads(open_storage(discover(".")).cached(
        sidecar.entry, what="test").read_bytes())
    pngs = [base64.b64decode(m["png"]) for m in document["masks"].values()]
    (box,) = boxes["predictions"]["box_data"]
    needles = [*pngs, *(m["png"].encode() for m in document["masks"].values()),
               masks["truth"]["mask_data"].astype("<u2").tobytes(),
               masks["truth"]["mask_data"].astype("<u2").tobytes()[:64],
               box["box_caption"].encode(), repr(box["scores"]["conf"]).encode(),
               boxes["predictions"]["class_labels"][1].encode()]
    objects = run_objects(repo, run.id)
    everything = all_objects(repo)
    assert b'"masks":["truth","pred"]' in objects  # the index is read: its meta is there
    for needle in needles:
        assert needle not in objects and needle not in everything
    # the sidecar's blob in the store is encrypted (a private project), like the pixels'
    store = discover(".").path + "gittrack/blobs"
    assert sidecar.entry.blob is not None
    stored = Path(store, sidecar.entry.blob[:2], sidecar.entry.blob[2:]).read_bytes()
    assert stored.startswith(b"age-encryption.org/v1")
    assert box["box_caption"].encode() not in stored
