"""gittrack.Video: every accepted input form, every refused one, and the stored form read back."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

import gittrack
from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media.base import Stored, decode
from gittrack.formats.media.video import Video
from tests.helpers.stored_media import round_trip, stored


def palette_frames(t: int = 6, h: int = 12, w: int = 20, seed: int = 0) -> np.ndarray:
    """(T, 3, H, W) uint8 frames of 16 colours: a GIF keeps them exactly."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    return np.ascontiguousarray(colours[rng.integers(0, 16, (t, h, w))].transpose(0, 3, 1, 2))


def smooth_frames(t: int = 8, h: int = 32, w: int = 48) -> np.ndarray:
    """(T, 3, H, W) float frames in [0, 1] a lossy codec keeps close."""
    y, x = np.mgrid[0:h, 0:w]
    frames = [np.stack([(x / w) * (i + 1) / t, (y / h), np.full((h, w), 0.5)])
              for i in range(t)]
    return np.stack(frames).astype(np.float32)


def test_exported_from_gittrack() -> None:
    assert gittrack.Video is Video


def test_gif_keeps_every_frame_exactly() -> None:
    frames = palette_frames()
    frames[3] = frames[2]  # identical frames in a row: still six frames back
    back = round_trip(Video(frames, fps=8, format="gif"))
    assert isinstance(back, Video)
    assert back.format == "gif" and back.fps == 8
    assert back.numpy().shape == frames.shape and back.numpy().dtype == np.uint8
    assert np.array_equal(back.numpy(), frames)
    assert back.bytes[:6] in (b"GIF89a", b"GIF87a")


def test_gif_is_the_default_format() -> None:
    item, _ = stored(Video(palette_frames()).payloads("k")[0])
    assert item.format == "gif" and (item.width, item.height, item.length) == (20, 12, 6)
    assert item.meta["fps"] == 4


@pytest.mark.parametrize("fmt", ["mp4", "webm"])
def test_pyav_formats_keep_count_shape_and_pixels(fmt: str) -> None:
    frames = smooth_frames()
    back = round_trip(Video(frames, fps=30, format=fmt, caption="rollout"))
    decoded = back.numpy()
    assert back.format == fmt and back.caption == "rollout" and back.fps == 30
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    expected = np.rint(frames * 255).astype(int)
    assert np.abs(decoded.astype(int) - expected).mean() < 3


def test_mp4_of_odd_size_comes_back_at_its_size() -> None:
    frames = palette_frames(t=3, h=7, w=9)
    assert round_trip(Video(frames, format="mp4")).numpy().shape == (3, 3, 7, 9)


def test_float_frames_are_scaled_from_0_1() -> None:
    frames = palette_frames()
    back = round_trip(Video(frames / 255.0, format="gif"))
    assert np.array_equal(back.numpy(), frames)


def test_float_pixel_values_above_one_are_taken_as_0_255() -> None:
    frames = palette_frames()
    back = round_trip(Video(frames.astype(np.float64), format="gif"))
    assert np.array_equal(back.numpy(), frames)


def test_grey_and_rgba_frames_become_rgb() -> None:
    grey = palette_frames()[:, :1]
    back = round_trip(Video(grey)).numpy()
    assert back.shape == (6, 3, 12, 20)
    assert np.array_equal(back[:, 0], grey[:, 0]) and np.array_equal(back[:, 2], grey[:, 0])
    rgba = np.concatenate([palette_frames(), np.zeros((6, 1, 12, 20), np.uint8)], axis=1)
    assert np.array_equal(round_trip(Video(rgba)).numpy(), palette_frames())


def test_a_batch_is_tiled_as_wandb_tiles_it() -> None:
    batch = np.stack([palette_frames(seed=s) for s in range(3)])  # B=3 → padded to 4
    back = round_trip(Video(batch)).numpy()
    assert back.shape == (6, 3, 12, 80)  # one row of four videos
    assert np.array_equal(back[:, :, :, 20:40], batch[1])
    assert not back[:, :, :, 60:].any()  # the padding video is black
    five = np.stack([palette_frames(t=2, seed=s) for s in range(5)])  # → 8: 2 rows of 4
    assert round_trip(Video(five)).numpy().shape == (2, 3, 24, 80)


def test_torch_tensors_are_accepted() -> None:
    torch = pytest.importorskip("torch")
    frames = palette_frames()
    back = round_trip(Video(torch.from_numpy(frames / 255.0).float()))
    assert np.array_equal(back.numpy(), frames)


@pytest.mark.parametrize("fmt", ["gif", "mp4", "webm", "ogg"])
def test_files_are_kept_as_they_are(tmp_path: Path, fmt: str) -> None:
    if fmt == "ogg":
        content = b"OggS\x00 not really a video"
    else:
        content = Video(palette_frames(), format=fmt).bytes
    path = tmp_path / f"clip.{fmt}"
    path.write_bytes(content)
    item, row = stored(Video(str(path), fps=10).payloads("k")[0])
    assert item.data == content and item.format == fmt
    back = decode(item.data, row)
    assert back.bytes == content and back.format == fmt
    if fmt != "ogg":
        assert (item.width, item.height, item.length) == (20, 12, 6)
        assert back.numpy().shape == (6, 3, 12, 20)


def test_bytes_in_a_file_object_with_their_format() -> None:
    content = Video(palette_frames(), format="gif").bytes
    video = Video(io.BytesIO(content), format="gif")
    assert video.payloads("k")[0].raw == content
    assert video.payloads("again")[0].raw == content  # read once, kept


def test_a_video_read_back_can_be_logged_again() -> None:
    back = round_trip(Video(palette_frames()))
    again = round_trip(back)
    assert again.bytes == back.bytes and np.array_equal(again.numpy(), palette_frames())


def test_mp4_without_pyav_is_refused_in_log_with_the_fix(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # as if the video extra were not installed
    with pytest.raises(InvalidValueError, match=r"'clip'.*gittrack\[video\].*format='gif'"):
        Video(palette_frames(), format="mp4").payloads("clip")
    assert Video(palette_frames(), format="gif").payloads("clip")


def test_frames_no_encoder_takes_are_refused_in_log() -> None:
    with pytest.raises(InvalidValueError, match=r"'clip'.*16384 pixels.*16400 x 2"):
        Video(np.zeros((1, 3, 2, 16400), np.uint8), format="mp4").payloads("clip")
    assert Video(np.zeros((1, 3, 2, 16400), np.uint8), format="gif").payloads("clip")


def test_a_video_pyav_cannot_encode_later_is_stored_as_gif(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    frames = palette_frames()
    payload = Video(frames, format="mp4").payloads("clip")[0]
    monkeypatch.setitem(sys.modules, "av", None)  # a recovery without the video extra
    item, row = stored(payload)
    assert item.format == "gif" and item.meta["requested"] == "mp4"
    assert np.array_equal(decode(item.data, row).numpy(), frames)
    assert "stored as GIF" in caplog.text


@pytest.mark.parametrize(("data", "kwargs", "expected"), [
    (np.zeros((4, 3, 8)), {}, r"\(T, C, H, W\)"),
    (np.zeros((4, 2, 8, 8), np.uint8), {}, "C 1, 3 or 4"),
    (np.zeros((0, 3, 8, 8), np.uint8), {}, "no empty dimension"),
    (np.full((2, 3, 4, 4), np.nan), {}, "finite"),
    (np.full((2, 3, 4, 4), -0.5), {}, "floats in"),
    (np.full((2, 3, 4, 4), 300), {}, "0-255"),
    (np.zeros((2, 3, 4, 4), bool), {}, "booleans"),
    (np.array([["a"]]), {}, "numbers"),
    ({"frames": 1}, {}, "dict"),
    (np.zeros((2, 3, 4, 4), np.uint8), {"fps": 0}, "fps"),
    (np.zeros((2, 3, 4, 4), np.uint8), {"fps": float("nan")}, "fps"),
    (np.zeros((2, 3, 4, 4), np.uint8), {"fps": True}, "fps"),
    (np.zeros((2, 3, 4, 4), np.uint8), {"format": "avi"}, "avi"),
    (b"GIF89a", {}, "format="),
])
def test_refused_inputs_name_the_key(data: object, kwargs: dict[str, object],
                                     expected: str) -> None:
    with pytest.raises(InvalidValueError, match="'clip'") as info:
        Video(data, **kwargs).payloads("clip")  # type: ignore[arg-type]
    assert info.match(expected)


def test_captions_are_text() -> None:
    assert Video(palette_frames(), caption=3).payloads("k")[0].spec["caption"] == "3"
    with pytest.raises(InvalidValueError, match=r"'clip'.*caption.*surrogate"):
        Video(palette_frames(), caption="\ud800").payloads("clip")


def test_refused_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match=r"'clip'.*missing.mp4"):
        Video(str(tmp_path / "missing.mp4")).payloads("clip")
    (tmp_path / "clip.avi").write_bytes(b"RIFF")
    with pytest.raises(InvalidValueError, match=r"\.avi.*\.mp4"):
        Video(tmp_path / "clip.avi").payloads("clip")
    (tmp_path / "empty.gif").write_bytes(b"")
    with pytest.raises(InvalidValueError, match="empty"):
        Video(tmp_path / "empty.gif").payloads("clip")


def test_stored_bytes_that_are_not_a_video_read_as_a_format_error() -> None:
    row = Stored("video", "mp4", 4, 4, 2, None, {"fps": 4})
    with pytest.raises(FormatError, match="video"):
        decode(b"not a video at all", row).numpy()
    with pytest.raises(FormatError, match="gif"):
        decode(b"GIF89a broken", Stored("video", "gif", None, None, None, None, {})).numpy()


def test_read_back_frames_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from gittrack.formats.media import video

    item, row = stored(Video(palette_frames(t=4)).payloads("k")[0])  # 720 bytes a frame
    monkeypatch.setattr(video, "MAX_BYTES", 2000)
    with pytest.raises(FormatError, match="more than 2,000"):
        decode(item.data, row).numpy()
    monkeypatch.setattr(video, "MAX_BYTES", 1 << 20)
    forged = Stored("video", "gif", 20, 12, 4, None, {"fps": 4, "repeats": [10**9, 1, 1, 1]})
    assert decode(item.data, forged).numpy().shape == (4, 3, 12, 20)  # repeats ignored


def test_encoding_happens_after_payloads() -> None:
    frames = palette_frames()
    payload = Video(frames, format="mp4").payloads("k")[0]
    assert payload.kind == "video" and bytes(payload.raw) == frames.transpose(0, 2, 3, 1).tobytes()
    assert payload.spec["shape"] == [6, 12, 20, 3] and payload.spec["format"] == "mp4"


def test_wandb_keyword_data_or_path() -> None:
    frames = palette_frames()
    assert np.array_equal(round_trip(Video(data_or_path=frames, fps=4)).numpy(), frames)
