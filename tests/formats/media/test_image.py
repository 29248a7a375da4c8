"""gittrack.Image: every accepted input form (encoded and decoded to the same pixels), every
rejected one (an error naming the key)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

import gittrack
from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media import base
from gittrack.formats.media.convert import as_media
from gittrack.formats.media.image import Image
from gittrack.formats.media.table import Table, gather


def noise(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def encoded(media: base.Media, key: str = "img") -> list[tuple[str, base.Encoded]]:
    """Each item of ``media`` as the run stores it: its kind and encoded form."""
    return [(p.kind, base.encode(base.Payload(p.kind, bytes(p.raw), p.spec)))
            for p in media.payloads(key)]


def read(items: list[tuple[str, base.Encoded]]) -> list[Any]:
    """The entry's items read back as ``RunView.media`` does (``gather``)."""
    return gather([base.decode(enc.data, base.Stored(kind, enc.format, enc.width, enc.height,
                                                     enc.length, enc.caption, enc.meta))
                   for kind, enc in items])


def stored(image: Image, key: str = "img") -> Image:
    """``image`` as the run stores it and reads it back."""
    (back,) = read(encoded(image, key))
    assert isinstance(back, Image)
    return back


def test_exported_from_gittrack() -> None:
    assert gittrack.Image is Image
    assert "Image" in gittrack.__all__ and "Text" in gittrack.__all__


@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 3), (7, 5, 4), (7, 5, 1)])
def test_uint8_hw_hwc(shape: tuple[int, ...]) -> None:
    a = noise(shape)
    back = stored(Image(a))
    expected = a[:, :, 0] if shape[-1] == 1 and len(shape) == 3 else a
    np.testing.assert_array_equal(back.numpy(), expected)
    assert (back.width, back.height, back.format) == (5, 7, "png")
    assert back.image.size == (5, 7)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_chw(channels: int) -> None:
    a = noise((channels, 6, 9))
    back = stored(Image(a)).numpy()
    expected = a.transpose(1, 2, 0)
    np.testing.assert_array_equal(back, expected[:, :, 0] if channels == 1 else expected)


def test_float_scaled_as_wandb() -> None:
    a = np.random.default_rng(1).random((4, 6, 3))
    np.testing.assert_array_equal(stored(Image(a)).numpy(), (a * 255).astype(np.uint8))
    f32 = a.astype(np.float32)
    np.testing.assert_array_equal(stored(Image(f32)).numpy(), (f32 * 255).astype(np.uint8))


def test_bool_and_wider_ints() -> None:
    b = np.random.default_rng(2).random((5, 5)) > 0.5
    np.testing.assert_array_equal(stored(Image(b)).numpy(), b.astype(np.uint8) * 255)
    i = noise((5, 5, 3)).astype(np.int64)
    np.testing.assert_array_equal(stored(Image(i)).numpy(), i.astype(np.uint8))


def test_captured_when_made() -> None:
    a = noise((4, 4, 3))
    image = Image(a)
    a[:] = 0
    assert stored(image).numpy().any()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "1", "LA"])
def test_pil_images(mode: str) -> None:
    pil = PILImage.fromarray(noise((6, 8, 3))).convert(mode)
    back = stored(Image(pil)).numpy()
    assert back.shape[:2] == (6, 8)
    if mode in ("RGB", "RGBA", "L"):
        np.testing.assert_array_equal(back, np.asarray(pil))


def test_torch_tensor_chw() -> None:
    torch = pytest.importorskip("torch")
    t = torch.rand(3, 5, 7, requires_grad=True)
    expected = (t.detach().numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
    np.testing.assert_array_equal(stored(Image(t)).numpy(), expected)
    gray = torch.rand(5, 7)
    assert stored(Image(gray)).numpy().shape == (5, 7)
    # a normalized MNIST input, as W&B's PyTorch example logs it: stretched, not refused
    mnist = (torch.rand(1, 28, 28) - 0.1307) / 0.3081
    back = stored(Image(mnist)).numpy()
    lo, hi = float(mnist.min()), float(mnist.max())
    expected = (((mnist[0].numpy() - lo) / (hi - lo + 1e-5)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(back, expected)
    assert back.max() >= 254 and back.min() == 0
    with pytest.raises(InvalidValueError, match="NaN"):
        Image(torch.full((3, 2, 2), float("nan"))).payloads("k")


def test_matplotlib_figure() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([1, 2, 3])
    for image in (Image(fig), as_media(fig)):
        assert isinstance(image, Image)
        back = stored(image)
        assert back.format == "png" and back.numpy().shape[:2] == (50, 100)
    assert isinstance(as_media(plt), Image) and Image(plt).numpy().shape[:2] == (50, 100)
    plt.close(fig)


@pytest.mark.parametrize(("suffix", "pil_format", "fmt"), [
    (".png", "PNG", "png"), (".jpg", "JPEG", "jpg"), (".jpeg", "JPEG", "jpg"),
    (".gif", "GIF", "gif"), (".bmp", "BMP", "bmp"), (".webp", "WEBP", "webp")])
def test_file_path_kept_as_is(tmp_path: Path, suffix: str, pil_format: str, fmt: str) -> None:
    path = tmp_path / f"picture{suffix}"
    PILImage.fromarray(noise((9, 11, 3))).save(path, format=pil_format)
    for source in (path, str(path)):
        back = stored(Image(source, caption="cap"))
        assert back.bytes == path.read_bytes()
        assert back.format == fmt and back.caption == "cap"
        assert back.numpy().shape[:2] == (9, 11)


def test_file_type_jpg() -> None:
    back = stored(Image(noise((8, 8, 3)), file_type="jpg"))
    assert back.format == "jpg" and back.bytes.startswith(b"\xff\xd8")


def test_mode_converts() -> None:
    back = stored(Image(noise((8, 8, 3)), mode="L"))
    assert back.numpy().shape == (8, 8)


def test_boxes_and_masks_kept_beside() -> None:
    boxes = {"predictions": {
        "box_data": [
            {"position": {"minX": 0.1, "maxX": 0.4, "minY": 0.2, "maxY": 0.5}, "class_id": 1,
             "box_caption": "cat", "scores": {"acc": 0.9}},
            {"position": {"middle": [4, 4], "width": 2, "height": 3}, "domain": "pixel",
             "class_id": np.int64(2)},
        ],
        "class_labels": {1: "cat", 2: "dog"}}}
    mask = np.random.default_rng(3).integers(0, 3, (6, 7))
    masks = {"predictions": {"mask_data": mask, "class_labels": {0: "bg", 1: "a", 2: "b"}},
             "truth": {"mask_data": mask.astype(np.int32) * 300}}
    back = stored(Image(noise((6, 7, 3)), boxes=boxes, masks=masks))
    assert back.boxes is not None and back.masks is not None
    data = back.boxes["predictions"]["box_data"]
    assert data[0]["position"] == {"minX": 0.1, "maxX": 0.4, "minY": 0.2, "maxY": 0.5}
    assert data[0]["scores"] == {"acc": 0.9} and data[0]["box_caption"] == "cat"
    assert data[1]["class_id"] == 2 and data[1]["domain"] == "pixel"
    assert back.boxes["predictions"]["class_labels"] == {1: "cat", 2: "dog"}
    np.testing.assert_array_equal(back.masks["predictions"]["mask_data"], mask)
    np.testing.assert_array_equal(back.masks["truth"]["mask_data"], mask * 300)
    assert back.masks["predictions"]["class_labels"] == {0: "bg", 1: "a", 2: "b"}


def test_annotations_are_an_item_of_their_own_not_meta() -> None:
    """The row's meta (git, plain text) says only that boxes and masks are there: names and
    counts; the boxes, scores, captions, labels and class maps are the second item's file."""
    mask = np.random.default_rng(5).integers(0, 4, (6, 7))
    boxes = {"predictions": {"box_data": [
        {"position": {"minX": 0.1, "maxX": 0.4, "minY": 0.2, "maxY": 0.5}, "class_id": 1,
         "box_caption": "secret-caption", "scores": {"acc": 0.123456}}],
        "class_labels": {1: "secret-label"}}}
    items = encoded(Image(noise((6, 7, 3)), boxes=boxes,
                          masks={"truth": {"mask_data": mask, "class_labels": {1: "x"}}}))
    assert [kind for kind, _ in items] == ["image", "image-annotations"]
    (_, image), (_, annotations) = items
    assert image.meta == {"annotations": {"offset": 1, "boxes": {"predictions": 1},
                                          "masks": ["truth"]}}
    assert annotations.meta == {} and annotations.format == "json"
    assert annotations.caption is None
    document = json.loads(annotations.data)
    assert document["boxes"]["predictions"]["box_data"][0]["box_caption"] == "secret-caption"
    assert set(document["masks"]["truth"]) == {"png", "class_labels"}
    assert base.is_part("image-annotations") and not base.is_part("image")


def test_boxes_only_and_masks_only() -> None:
    boxes = {"p": {"box_data": [{"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1},
                                 "class_id": 0}]}}
    back = stored(Image(noise((4, 4)), boxes=boxes))
    assert back.masks is None and back.boxes is not None
    assert back.boxes["p"]["box_data"][0]["class_id"] == 0
    mask = np.eye(4, dtype=np.uint8)
    back = stored(Image(noise((4, 4)), masks={"m": {"mask_data": mask}}))
    assert back.boxes is None and back.masks is not None
    np.testing.assert_array_equal(back.masks["m"]["mask_data"], mask)
    assert back.masks["m"]["class_labels"] == {}


def test_a_list_and_a_table_of_annotated_images() -> None:
    masks = [np.full((4, 5), i, np.uint8) for i in range(3)]
    images = [Image(noise((4, 5, 3), seed=i), masks={"m": {"mask_data": masks[i]}})
              for i in range(3)]
    images[1] = Image(noise((4, 5, 3), seed=1))  # no annotations: one item
    listed = [item for image in images for item in encoded(image)]
    assert [kind for kind, _ in listed] == ["image", "image-annotations", "image", "image",
                                            "image-annotations"]
    back = read(listed)
    assert len(back) == 3 and all(isinstance(b, Image) for b in back)
    assert back[1].masks is None
    for i in (0, 2):
        np.testing.assert_array_equal(back[i].masks["m"]["mask_data"], masks[i])
        np.testing.assert_array_equal(back[i].numpy(), noise((4, 5, 3), seed=i))
    table = Table(columns=["id", "image"])
    for i, image in enumerate(images):
        table.add_data(i, image)
    (got,) = read(encoded(table, "t"))
    assert isinstance(got, Table) and got.get_column("id") == [0, 1, 2]
    cells = got.get_column("image")
    assert all(isinstance(c, Image) for c in cells) and cells[1].masks is None
    np.testing.assert_array_equal(cells[2].masks["m"]["mask_data"], masks[2])
    np.testing.assert_array_equal(cells[2].numpy(), noise((4, 5, 3), seed=2))


def test_an_image_read_back_logs_again_with_its_annotations() -> None:
    mask = np.random.default_rng(6).integers(0, 300, (5, 6))
    boxes = {"p": {"box_data": [{"position": {"middle": [1, 2], "width": 1, "height": 1},
                                 "class_id": 3, "scores": {"s": 0.5}}],
                   "class_labels": {3: "c"}}}
    first = stored(Image(noise((5, 6)), boxes=boxes,
                         masks={"m": {"mask_data": mask, "class_labels": {2: "two"}}}))
    again = stored(first)
    assert again.boxes == first.boxes and again.boxes is not None
    assert again.boxes["p"]["class_labels"] == {3: "c"}
    assert again.masks is not None and again.masks["m"]["class_labels"] == {2: "two"}
    np.testing.assert_array_equal(again.masks["m"]["mask_data"], mask)


def test_a_row_written_before_annotations_were_items_reads_as_before() -> None:
    """Runs committed with boxes and masks inline in the row's meta (and a payload spooled
    that way, recovered by this version) read back as they were written."""
    mask = np.random.default_rng(7).integers(0, 3, (4, 5)).astype(np.uint16)
    boxes = {"p": {"box_data": [{"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1},
                                 "class_id": 1, "box_caption": "old"}],
                   "class_labels": {"1": "one"}}}
    pixels = noise((4, 5, 3))
    spec = {"caption": None, "width": 5, "height": 4, "format": "png", "pixels": "RGB",
            "boxes": boxes, "masks": {"m": {"offset": pixels.nbytes,
                                            "class_labels": {"0": "bg"}}}}
    old = base.encode(base.Payload("image", pixels.tobytes() + mask.astype("<u2").tobytes(),
                                   spec))
    assert set(old.meta) == {"boxes", "masks"}  # the old layout: what those runs hold
    (back,) = read([("image", old)])
    assert isinstance(back, Image) and back.boxes is not None and back.masks is not None
    assert back.boxes["p"]["box_data"][0]["box_caption"] == "old"
    assert back.boxes["p"]["class_labels"] == {1: "one"}
    np.testing.assert_array_equal(back.masks["m"]["mask_data"], mask)
    assert back.masks["m"]["class_labels"] == {0: "bg"}
    np.testing.assert_array_equal(back.numpy(), pixels)


def test_forged_annotations_are_a_format_error() -> None:
    stored_ = base.Stored("image-annotations", "json", 4, 4, None, None, {})
    for data in (b"not json", b"[1]", b'{"masks": {"m": {"png": "AAAA"}}}'):
        with pytest.raises(FormatError, match="image annotations"):
            base.decode(data, stored_)


def test_mask_from_path(tmp_path: Path) -> None:
    mask = np.random.default_rng(4).integers(0, 5, (6, 7)).astype(np.uint8)
    PILImage.fromarray(mask).save(tmp_path / "m.png")
    back = stored(Image(noise((6, 7, 3)), masks={"p": {"path": str(tmp_path / "m.png")}}))
    assert back.masks is not None
    np.testing.assert_array_equal(back.masks["p"]["mask_data"], mask)


BAD: list[tuple[Any, dict[str, Any], str]] = [
    (np.zeros((0, 5), np.uint8), {}, "empty"),
    (np.zeros((5,), np.uint8), {}, "shape"),
    (np.zeros((2, 5, 5, 5), np.uint8), {}, "shape"),
    (np.zeros((5, 5, 2), np.uint8), {}, "shape"),
    (np.full((3, 3), np.nan), {}, "NaN"),
    (np.full((3, 3), 1.5), {}, r"\[0, 1\]"),
    (np.full((3, 3), -1), {}, "0..255"),
    (np.zeros((3, 3), np.complex64), {}, "dtype"),
    (np.array([["a"]]), {}, "dtype"),
    ("no/such/file.png", {}, "cannot read"),
    ("picture.tiff", {}, ".png"),
    (object(), {}, "expected a numpy array"),
    (np.zeros((4, 4), np.uint8), {"mode": "XYZ"}, "mode"),
    (np.zeros((4, 4), np.uint8), {"file_type": "tiff"}, "file_type"),
    (np.zeros((4, 4), np.uint8), {"boxes": [1]}, "boxes"),
    (np.zeros((4, 4), np.uint8), {"boxes": {"p": {"box_data": [{"class_id": 1}]}}}, "position"),
    (np.zeros((4, 4), np.uint8),
     {"boxes": {"p": {"box_data": [{"position": {"minX": 0, "maxX": float("nan"), "minY": 0,
                                                 "maxY": 1}, "class_id": 1}]}}}, "finite"),
    (np.zeros((4, 4), np.uint8),
     {"boxes": {"p": {"box_data": [{"position": {"minX": 0, "maxX": 1, "minY": 0,
                                                 "maxY": 1}}]}}}, "class_id"),
    (np.zeros((4, 4), np.uint8), {"masks": {"p": {"mask_data": np.zeros((3, 4))}}}, "shape"),
    (np.zeros((4, 4), np.uint8), {"masks": {"p": {"mask_data": np.full((4, 4), -1)}}}, "class"),
    (np.zeros((4, 4), np.uint8), {"masks": {"p": {}}}, "mask_data"),
]


@pytest.mark.parametrize(("data", "kwargs", "why"), BAD)
def test_refused_naming_the_key(data: Any, kwargs: dict[str, Any], why: str) -> None:
    image = Image(data, **kwargs)  # made as W&B users make it; refused when logged
    with pytest.raises(InvalidValueError, match=why) as info:
        image.payloads("my/key")
    assert "'my/key'" in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(b"not a png")
    with pytest.raises(InvalidValueError, match="not a readable image"):
        Image(path).payloads("k")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InvalidValueError, match="empty"):
        Image(tmp_path / "empty.jpg").payloads("k")


def test_bytes_of_a_new_image_is_its_png() -> None:
    a = noise((3, 4, 3))
    data = Image(a).bytes
    np.testing.assert_array_equal(np.asarray(PILImage.open(io.BytesIO(data))), a)


def test_as_media() -> None:
    a = Image(noise((2, 2)))
    assert as_media(a) is a
    assert as_media([a, a]) == [a, a]
    assert as_media((a,)) == [a]
    assert as_media([]) is None and as_media(3) is None and as_media([1, 2]) is None
    with pytest.raises(InvalidValueError, match="'k'"):
        as_media([a, 1], "k")
