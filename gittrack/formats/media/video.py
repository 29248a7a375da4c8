"""``gittrack.Video``: frames from an array (encoded to GIF with Pillow, MP4 or WebM with PyAV)
or a video file kept as it is.

``log()`` validates and copies the frames (``payloads``, on the caller's thread); encoding
happens later, in the checkpoint thread (``encode_video``). Read back, a ``Video`` holds the
stored bytes; ``numpy()`` decodes them to (T, C, H, W) uint8 RGB frames.
"""

from __future__ import annotations

import dataclasses
import fractions
import io
import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media import inputs
from gittrack.formats.media.base import Encoded, Media, Payload, Stored, register

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("gittrack")

KIND: Final = "video"
ENCODED_FORMATS: Final = ("gif", "mp4", "webm")
"""What frames from an array can be encoded to (gif with Pillow; mp4 and webm need PyAV)."""
FILE_FORMATS: Final = ("gif", "mp4", "webm", "ogg")
"""Video files kept as they are."""
_CODECS: Final = {"mp4": "libx264", "webm": "libvpx-vp9"}
MAX_SIDE: Final = {"gif": 65535, "mp4": 16384, "webm": 16384}
"""The widest and tallest frame (after tiling) each format can hold (GIF: 16-bit sizes;
libx264 refuses more than 16384)."""
MAX_BYTES: Final = 1 << 30
"""The most frames of one video may take as uint8 RGB (1 GiB: 1,300 frames of 512 × 512)."""
DEFAULT_FORMAT: Final = "gif"
"""W&B's default: it needs nothing beyond Pillow (docs/decisions.md, "Issue 11: video")."""


class Video(Media):
    """A video to log: ``Video(frames, fps=4, format="gif")`` or ``Video("clip.mp4")``.

    ``frames``: a numpy array or torch tensor of (T, C, H, W) frames, or (B, T, C, H, W)
    tiled into a grid of B videos as W&B does; C is 1 (grey), 3 (RGB) or 4 (RGBA, alpha
    dropped); uint8, or floats in [0, 1] (scaled by 255). ``format``: "gif" (the default,
    Pillow), "mp4" or "webm" (PyAV: ``pip install 'gittrack[video]'``). A path to a .mp4,
    .gif, .webm or .ogg file (or its bytes in a file object with ``format``) is kept as is.

    >>> run.log({"rollout": gittrack.Video(frames, fps=8, format="mp4")})  # doctest: +SKIP
    """

    kind = KIND

    def __init__(self, data: Any = None, caption: str | None = None, fps: float | None = 4,
                 format: str | None = None, *, data_or_path: Any = None) -> None:
        self._data = data_or_path if data is None else data  # W&B's name for it
        self.caption = caption
        self.fps = 4 if fps is None else fps
        self.format = format.lower().lstrip(".") if isinstance(format, str) else format
        self._stored: bytes | None = None
        self._frames: np.ndarray | None = None
        self._repeats: list[int] | None = None  # of a GIF read back: see encode_video
        self._size: tuple[int, int] | None = None  # of an mp4 read back: before padding

    @property
    def bytes(self) -> bytes:
        """The stored file's bytes (a logged value: read its file or encode it)."""
        if self._stored is None:
            encoded = encode_video(self.payloads("video")[0])
            self._stored, self.format = encoded.data, encoded.format
            repeats = encoded.meta.get("repeats")
            self._repeats = repeats if isinstance(repeats, list) else None
            self._size = (encoded.width or 0, encoded.height or 0)
        return self._stored

    def numpy(self) -> np.ndarray:
        """The frames as a (T, C, H, W) uint8 RGB array (decoded with PyAV, or Pillow for GIF)."""
        if self._frames is None:
            self._frames = decode_frames(self.bytes, str(self.format), what="video",
                                         repeats=self._repeats, size=self._size)
        return self._frames

    def __repr__(self) -> str:
        return f"Video(format={self.format!r}, fps={self.fps!r}, caption={self.caption!r})"

    def payloads(self, key: str) -> list[Payload]:
        fps = _checked_fps(key, self.fps)
        caption = inputs.caption(key, self.caption)
        if self._stored is not None:  # a video read back, logged again
            return [_file_payload(self._stored, str(self.format), fps, caption)]
        source = inputs.file_source(key, self._data, "Video", FILE_FORMATS, self.format)
        if source is not None:  # kept: a file object is read once
            self._stored, self.format = source
            return [_file_payload(self._stored, self.format, fps, caption)]
        fmt = DEFAULT_FORMAT if self.format is None else self.format
        if fmt not in ENCODED_FORMATS:
            raise InvalidValueError(
                f"cannot log {key!r}: Video format {fmt!r} is not one frames can be encoded "
                f"to; expected one of {', '.join(ENCODED_FORMATS)}")
        if fmt in _CODECS and not has_av():
            raise InvalidValueError(
                f"cannot log {key!r}: Video format {fmt!r} needs PyAV: "
                f"pip install 'gittrack[video]', or use format='gif'")
        frames = _frames(key, self._data)
        _check_size(key, frames, fmt)
        spec = {"source": "array", "format": fmt, "fps": fps, "caption": caption,
                "shape": list(frames.shape), "dtype": "uint8"}
        return [Payload(KIND, frames.data.cast("B"), spec)]  # a copy already


def has_av() -> bool:
    """Whether PyAV (the ``video`` extra) can be imported."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _file_payload(data: bytes, fmt: str, fps: float, caption: str | None) -> Payload:
    return Payload(KIND, data, {"source": "file", "format": fmt, "fps": fps, "caption": caption})


def _check_size(key: str, frames: np.ndarray, fmt: str) -> None:
    t, h, w, _ = frames.shape
    if max(h, w) > MAX_SIDE[fmt]:
        raise InvalidValueError(
            f"cannot log {key!r}: {fmt} frames are at most {MAX_SIDE[fmt]} pixels wide and "
            f"tall; these are {w} x {h}")
    if frames.nbytes > MAX_BYTES:
        raise InvalidValueError(
            f"cannot log {key!r}: the video's {t} frames of {w} x {h} take "
            f"{frames.nbytes:,} bytes, more than {MAX_BYTES:,}; log fewer or smaller frames")


def _checked_fps(key: str, fps: Any) -> float:
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps) \
            or not 0 < fps <= 1000:
        raise InvalidValueError(
            f"cannot log {key!r}: Video fps must be a number of frames per second in "
            f"(0, 1000], got {fps!r}")
    return float(fps)


def _frames(key: str, data: Any) -> np.ndarray:
    """(T, H, W, 3) uint8 frames, B videos tiled into one, as W&B tiles them."""
    import numpy as np

    array = inputs.as_array(key, data, "Video", "a (T, C, H, W) array")
    if array.ndim not in (4, 5):
        raise InvalidValueError(
            f"cannot log {key!r}: Video expects frames as (T, C, H, W) or (B, T, C, H, W), "
            f"got an array of shape {array.shape}")
    if array.ndim == 4:
        array = array[np.newaxis]
    b, t, c, h, w = array.shape
    if c not in (1, 3, 4) or 0 in (b, t, h, w):
        raise InvalidValueError(
            f"cannot log {key!r}: Video expects (T, C, H, W) frames with C 1, 3 or 4 and no "
            f"empty dimension, got shape {array.shape}")
    array = inputs.as_uint8(key, array, "Video")
    array = array[:, :, :3] if c == 4 else np.repeat(array, 3, axis=2) if c == 1 else array
    return _tiled(array)


def _tiled(video: np.ndarray) -> np.ndarray:
    """(B, T, 3, H, W) → (T, rows·H, cols·W, 3): B padded to a power of two with black
    videos, in a grid of 2**(⌊log2 B⌋ // 2) rows (W&B's layout)."""
    import numpy as np

    b, t, c, h, w = video.shape
    if b & (b - 1):
        pad = np.zeros((2 ** b.bit_length() - b, t, c, h, w), dtype=np.uint8)
        video = np.concatenate((video, pad))
    rows = 2 ** ((b.bit_length() - 1) // 2) if b > 1 else 1
    cols = video.shape[0] // rows
    grid = video.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return np.ascontiguousarray(grid.reshape(t, rows * h, cols * w, c))


def encode_video(payload: Payload) -> Encoded:
    """The stored form of a video payload: a file's bytes as they are, or frames encoded."""
    spec = payload.spec
    fmt, fps, caption = str(spec["format"]), float(spec["fps"]), spec.get("caption")
    if spec.get("source") == "file":
        data = bytes(payload.raw)
        info = probe(data, fmt)
        return Encoded(data, fmt, info.width, info.height, info.frames, caption, {"fps": fps})
    import numpy as np

    t, h, w, _ = (int(n) for n in spec["shape"])
    frames = np.frombuffer(payload.raw, dtype=np.uint8).reshape(t, h, w, 3)
    meta: dict[str, Any] = {"fps": fps}
    data = b""
    if fmt != "gif":
        try:
            data = _av_encode(frames, fps, fmt)
        except FormatError as exc:  # the checkpoint must go on: the frames are kept as GIF
            log.warning("gittrack: %s; the video is stored as GIF instead", exc)
            fmt, meta["requested"] = "gif", fmt
    if fmt == "gif":
        data, repeats = _gif(frames, fps)
        if any(r > 1 for r in repeats):
            meta["repeats"] = repeats
    return Encoded(data, fmt, w, h, t, caption, meta)


def _gif(frames: np.ndarray, fps: float) -> tuple[bytes, list[int]]:
    """GIF bytes, identical consecutive frames merged into one shown longer (Pillow would
    merge them anyway), and how many frames each stored frame stands for."""
    from PIL import Image

    kept, repeats = [frames[0]], [1]
    for frame in frames[1:]:
        if (frame == kept[-1]).all():
            repeats[-1] += 1
        else:
            kept.append(frame)
            repeats.append(1)
    images = [Image.fromarray(f, "RGB") for f in kept]
    step = 1000 / fps
    sink = io.BytesIO()
    images[0].save(sink, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=[max(10, round(step * r)) for r in repeats], disposal=1)
    return sink.getvalue(), repeats


def _av_encode(frames: np.ndarray, fps: float, fmt: str) -> bytes:
    try:
        import av
    except ImportError:  # a recovery where the video extra is not installed
        raise FormatError(f"cannot encode a {fmt} video: PyAV is not installed "
                          f"(pip install 'gittrack[video]')") from None

    _, h, w, _ = frames.shape
    sink = io.BytesIO()
    try:
        with av.open(sink, mode="w", format=fmt) as container:
            rate = fractions.Fraction(fps).limit_denominator(1001)
            stream = container.add_stream(_CODECS[fmt], rate=rate)
            stream.width, stream.height = w + w % 2, h + h % 2  # yuv420p: even sizes
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18"} if fmt == "mp4" else {"crf": "20", "b": "0"}
            for frame in frames:
                if w % 2 or h % 2:
                    import numpy as np

                    frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
                picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
                container.mux(stream.encode(picture))
            container.mux(stream.encode())
    except Exception as exc:  # PyAV's errors are many; the message is what matters
        raise FormatError(f"cannot encode a {fmt} video: {type(exc).__name__}: {exc}") from None
    return sink.getvalue()


@dataclasses.dataclass(frozen=True, slots=True)
class Probe:
    width: int | None = None
    height: int | None = None
    frames: int | None = None


def probe(data: bytes, fmt: str) -> Probe:
    """The size and frame count of a video file, as far as Pillow (GIF) or PyAV can tell;
    nothing for a file neither reads (it is kept all the same)."""
    try:
        if fmt == "gif":
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                return Probe(image.width, image.height, getattr(image, "n_frames", 1))
        if not has_av():
            return Probe()
        import av

        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            # WebM declares no frame count: its packets are counted (not decoded)
            frames = stream.frames or sum(1 for p in container.demux(stream) if p.size)
            return Probe(stream.width or None, stream.height or None, frames or None)
    except Exception:  # a file we cannot read is still kept: its size is just unknown
        return Probe()


def decode_frames(data: bytes, fmt: str, *, what: str,
                  repeats: list[int] | None = None, size: tuple[int, int] | None = None
                  ) -> np.ndarray:
    """(T, 3, H, W) uint8 frames of a video file; ``FormatError`` naming ``what`` if neither
    Pillow nor PyAV reads it, or if its frames would take more than ``MAX_BYTES`` (a video
    may come from a remote: a few KB can declare gigabytes of frames)."""
    import numpy as np

    try:
        if fmt == "gif":
            frames = _bounded(_gif_frames(data), what)
            if _repeats_fit(repeats, frames):
                frames = [f for f, r in zip(frames, repeats or [], strict=True)
                          for _ in range(r)]
        else:
            frames = _bounded(_av_frames(data, what), what)
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"cannot decode {what} ({fmt}): {type(exc).__name__}: {exc}"
                          ) from None
    if not frames:
        raise FormatError(f"cannot decode {what} ({fmt}): it has no frames")
    video = np.stack(frames)
    if size is not None and size[0] and size[1]:
        video = video[:, :size[1], :size[0]]
    return np.ascontiguousarray(video.transpose(0, 3, 1, 2))


def _bounded(frames: Iterator[np.ndarray], what: str) -> list[np.ndarray]:
    kept, total = [], 0
    for frame in frames:
        total += frame.nbytes
        if total > MAX_BYTES:
            raise FormatError(f"cannot decode {what}: its frames take more than "
                              f"{MAX_BYTES:,} bytes")
        kept.append(frame)
    return kept


def _repeats_fit(repeats: list[int] | None, frames: list[np.ndarray]) -> bool:
    """Whether ``repeats`` (from the index row) fit the GIF's frames and the bound."""
    if repeats is None or len(repeats) != len(frames) or not frames:
        return False
    if not all(isinstance(r, int) and r >= 1 for r in repeats):
        return False
    return sum(repeats) * frames[0].nbytes <= MAX_BYTES


def _gif_frames(data: bytes) -> Iterator[np.ndarray]:
    import numpy as np
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            yield np.asarray(frame.convert("RGB"))


def _av_frames(data: bytes, what: str) -> Iterator[np.ndarray]:
    if not has_av():
        raise FormatError(f"cannot decode {what}: reading it needs PyAV: "
                          f"pip install 'gittrack[video]'")
    import av

    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def decode_video(data: bytes, stored: Stored) -> Video:
    video = Video(None, caption=stored.caption, fps=stored.meta.get("fps", 4),
                  format=stored.format)
    video._stored = data
    repeats = stored.meta.get("repeats")
    video._repeats = repeats if isinstance(repeats, list) else None
    if stored.width and stored.height:
        video._size = (stored.width, stored.height)
    return video


register(KIND, encode_video, decode_video)

__all__ = ["Video", "decode_video", "encode_video"]
