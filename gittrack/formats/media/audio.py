"""``gittrack.Audio``: samples from an array, stored as a 16-bit PCM WAV file (the standard
library's ``wave``), or an audio file (.wav, .mp3, .flac, .ogg) kept as it is.

Floats are taken in [-1, 1] (values beyond are clipped, as a sound card would) and stored as
16-bit PCM (one part in 32,767); int16 samples are stored exactly. ``numpy()`` of a logged
array gives back its kind: float32 in [-1, 1] for floats, int16 for int16.
"""

from __future__ import annotations

import io
import math
import wave
from typing import TYPE_CHECKING, Any, Final

from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media import inputs
from gittrack.formats.media.base import Encoded, Media, Payload, Stored, register

if TYPE_CHECKING:
    import numpy as np

KIND: Final = "audio"
FILE_FORMATS: Final = ("wav", "mp3", "flac", "ogg")
MAX_CHANNELS: Final = 64
"""More channels than this is taken for a (channels, samples) array given the wrong way."""
MAX_BYTES: Final = 1 << 30
"""The most PCM bytes one Audio from an array may take (a WAV file holds under 4 GiB)."""
_SCALE: Final = 32767


class Audio(Media):
    """Sound to log: ``Audio(samples, sample_rate=16000)`` or ``Audio("speech.wav")``.

    ``samples``: a numpy array or tensor, 1-D (mono) or (N, channels); floats in [-1, 1] or
    int16. ``sample_rate`` (samples per second) is required for arrays.

    >>> sound = gittrack.Audio(wave, sample_rate=22050, caption="epoch 3")  # doctest: +SKIP
    >>> run.log({"sample": sound})  # doctest: +SKIP
    """

    kind = KIND

    def __init__(self, data: Any = None, sample_rate: int | None = None,
                 caption: str | None = None, *, data_or_path: Any = None) -> None:
        self._data = data_or_path if data is None else data  # W&B's name for it
        self.sample_rate = sample_rate
        self.caption = caption
        self.format: str | None = None
        self._stored: bytes | None = None
        self._duration: float | None = None
        self._meta: dict[str, Any] = {}

    @property
    def bytes(self) -> bytes:
        """The stored file's bytes (a WAV file for samples from an array)."""
        if self._stored is None:
            encoded = encode_audio(self.payloads("audio")[0])
            self._stored, self.format, self._meta = encoded.data, encoded.format, \
                dict(encoded.meta)
        return self._stored

    @property
    def duration(self) -> float | None:
        """Seconds of sound, if known (WAV files and arrays; other files when PyAV reads them)."""
        if self._duration is None:
            self._duration = probe(self.bytes, str(self.format)).get("duration")
        return self._duration

    def numpy(self) -> np.ndarray:
        """The samples of a WAV file: 1-D for mono, else (N, channels); float32 in [-1, 1] for
        floats logged, int16 for 16-bit samples. ``FormatError`` for other formats."""
        if self.bytes and self.format != "wav":
            raise FormatError(f"cannot decode {self.format} audio to samples: only WAV is; "
                              f"its bytes are in .bytes")
        return read_wav(self.bytes, floats=self._meta.get("dtype") == "float32",
                        flat=self._meta.get("flat", True))

    def __repr__(self) -> str:
        return f"Audio(sample_rate={self.sample_rate!r}, caption={self.caption!r})"

    def payloads(self, key: str) -> list[Payload]:
        caption = inputs.caption(key, self.caption)
        if self._stored is not None:  # read back, or a file already read: logged again
            return [_file_payload(self._stored, str(self.format), caption)]
        source = inputs.file_source(key, self._data, "Audio", FILE_FORMATS, self.format)
        if source is not None:  # kept: a file object is read once
            self._stored, self.format = source
            return [_file_payload(self._stored, self.format, caption)]
        samples = _samples(key, self._data)
        rate = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) \
                or not math.isfinite(rate) or not 1 <= rate <= 2**31 - 1 or rate != int(rate):
            raise InvalidValueError(
                f"cannot log {key!r}: Audio of an array needs sample_rate=, a whole number of "
                f"samples per second (e.g. 16000), got {rate!r}")
        flat, dtype = samples.ndim == 1, "int16" if samples.dtype.kind in "iu" else "float32"
        if samples.size * 2 > MAX_BYTES:
            raise InvalidValueError(
                f"cannot log {key!r}: {samples.size:,} samples take more than the "
                f"{MAX_BYTES:,} bytes of 16-bit PCM an Audio may; log a shorter clip")
        pcm = _pcm(samples)
        spec = {"source": "array", "sample_rate": int(rate), "channels": pcm.shape[1],
                "dtype": dtype, "flat": flat, "caption": caption}
        return [Payload(KIND, pcm.data.cast("B"), spec)]


def _file_payload(data: bytes, fmt: str, caption: str | None) -> Payload:
    return Payload(KIND, data, {"source": "file", "format": fmt, "caption": caption})


def _samples(key: str, data: Any) -> np.ndarray:
    array = inputs.as_array(key, data, "Audio", "a 1-D or (N, channels) array")
    if array.ndim not in (1, 2) or array.size == 0:
        raise InvalidValueError(
            f"cannot log {key!r}: Audio expects samples as a non-empty 1-D (mono) or "
            f"(N, channels) array, got shape {array.shape}")
    if array.ndim == 2 and not 1 <= array.shape[1] <= MAX_CHANNELS:
        raise InvalidValueError(
            f"cannot log {key!r}: Audio expects (N, channels) with at most {MAX_CHANNELS} "
            f"channels, got shape {array.shape} (transpose a (channels, N) array)")
    if array.dtype.kind == "b" or (array.dtype.kind in "iu" and array.dtype.name != "int16"):
        raise InvalidValueError(
            f"cannot log {key!r}: Audio expects float samples in [-1, 1] or int16, got "
            f"{array.dtype}")
    if array.dtype.kind == "f" and not _finite(array):
        raise InvalidValueError(f"cannot log {key!r}: Audio samples must be finite; got NaN "
                                f"or infinity")
    return array


def _finite(array: np.ndarray) -> bool:
    import numpy as np

    return bool(np.isfinite(array).all())


def _pcm(samples: np.ndarray) -> np.ndarray:
    """(N, channels) little-endian int16 samples."""
    import numpy as np

    if samples.dtype.kind == "f":
        samples = np.rint(np.clip(samples, -1.0, 1.0) * _SCALE)
    pcm = samples.astype("<i2")
    return np.ascontiguousarray(pcm.reshape(len(pcm), -1))


def encode_audio(payload: Payload) -> Encoded:
    spec, caption = payload.spec, payload.spec.get("caption")
    if spec.get("source") == "file":
        fmt = str(spec["format"])
        data = bytes(payload.raw)
        info = probe(data, fmt)
        meta: dict[str, Any] = {k: info[k] for k in ("sample_rate", "channels") if k in info}
        return Encoded(data, fmt, None, None, info.get("duration"), caption, meta)
    rate, channels = int(spec["sample_rate"]), int(spec["channels"])
    sink = io.BytesIO()
    with wave.open(sink, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(payload.raw)
    frames = len(payload.raw) // (2 * channels)
    meta = {"sample_rate": rate, "channels": channels, "dtype": spec["dtype"],
            "flat": bool(spec["flat"])}
    return Encoded(sink.getvalue(), "wav", None, None, frames / rate, caption, meta)


def probe(data: bytes, fmt: str) -> dict[str, Any]:
    """Duration, rate and channels of an audio file, as far as ``wave`` (WAV) or PyAV can
    tell; nothing for a file neither reads (it is kept all the same)."""
    try:
        if fmt == "wav":
            with wave.open(io.BytesIO(data)) as file:
                rate = file.getframerate()
                return {"duration": file.getnframes() / rate, "sample_rate": rate,
                        "channels": file.getnchannels()}
        from gittrack.formats.media.video import has_av

        if not has_av():
            return {}
        import av

        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.audio[0]
            found: dict[str, Any] = {"sample_rate": stream.rate, "channels": stream.channels}
            if container.duration:
                found["duration"] = container.duration / 1_000_000
            return found
    except Exception:  # kept as it is; what it holds is just unknown
        return {}


def read_wav(data: bytes, *, floats: bool = False, flat: bool = True) -> np.ndarray:
    """The samples of a PCM WAV file; ``FormatError`` if ``wave`` cannot read it."""
    import numpy as np

    try:
        with wave.open(io.BytesIO(data)) as file:
            width, channels = file.getsampwidth(), file.getnchannels()
            raw = file.readframes(file.getnframes())
    except (wave.Error, EOFError, ValueError) as exc:
        raise FormatError(f"cannot read the WAV file: {exc}") from None
    kinds = {1: "u1", 2: "<i2", 4: "<i4"}
    if width not in kinds:
        raise FormatError(f"cannot read the WAV file: {8 * width}-bit samples")
    samples = np.frombuffer(raw, dtype=kinds[width]).reshape(-1, channels)
    if floats:
        samples = (samples / _SCALE).astype(np.float32)
    result: np.ndarray = samples[:, 0].copy() if flat and channels == 1 else samples.copy()
    return result


def decode_audio(data: bytes, stored: Stored) -> Audio:
    audio = Audio(None, sample_rate=stored.meta.get("sample_rate"), caption=stored.caption)
    audio._stored, audio.format, audio._meta = data, stored.format, dict(stored.meta)
    audio._duration = stored.length
    return audio


register(KIND, encode_audio, decode_audio)

__all__ = ["Audio", "decode_audio", "encode_audio"]
