"""gittrack.Audio: every accepted input form, every refused one, and the stored form read back."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

import gittrack
from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media.audio import Audio
from gittrack.formats.media.base import Stored, decode
from tests.helpers.stored_media import round_trip, stored


def tone(seconds: float = 0.5, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.8 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_exported_from_gittrack() -> None:
    assert gittrack.Audio is Audio


def test_float_mono_round_trip() -> None:
    samples = tone()
    back = round_trip(Audio(samples, sample_rate=8000, caption="a4"))
    assert isinstance(back, Audio)
    assert back.sample_rate == 8000 and back.caption == "a4" and back.format == "wav"
    assert back.duration == pytest.approx(0.5)
    decoded = back.numpy()
    assert decoded.dtype == np.float32 and decoded.shape == samples.shape
    assert np.abs(decoded - samples).max() <= 1 / 32767


def test_int16_stereo_is_stored_exactly() -> None:
    samples = np.arange(-3000, 3000, dtype=np.int16).reshape(-1, 2)
    item, _ = stored(Audio(samples, sample_rate=16000).payloads("k")[0])
    assert item.format == "wav" and item.length == pytest.approx(3000 / 16000)
    assert item.meta["channels"] == 2 and item.meta["sample_rate"] == 16000
    back = round_trip(Audio(samples, sample_rate=16000))
    assert back.numpy().dtype == np.int16 and np.array_equal(back.numpy(), samples)


def test_the_wav_file_is_a_standard_one() -> None:
    data = Audio(tone(), sample_rate=8000).bytes
    with wave.open(io.BytesIO(data)) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 8000)
        assert file.getnframes() == 4000


def test_floats_beyond_one_are_clipped() -> None:
    back = round_trip(Audio(np.array([2.0, -3.0, 0.5]), sample_rate=100)).numpy()
    assert back[0] == pytest.approx(1.0) and back[1] == pytest.approx(-1.0)


def test_a_single_channel_column_stays_two_dimensional() -> None:
    samples = tone().reshape(-1, 1)
    assert round_trip(Audio(samples, sample_rate=8000)).numpy().shape == samples.shape


def test_torch_tensors_and_lists_are_accepted() -> None:
    torch = pytest.importorskip("torch")
    samples = tone()
    assert np.allclose(round_trip(Audio(torch.from_numpy(samples), 8000)).numpy(), samples,
                       atol=1e-4)
    assert round_trip(Audio([0.0, 0.5, -0.5], 3)).duration == pytest.approx(1.0)


def test_wav_files_are_kept_and_read(tmp_path: Path) -> None:
    content = Audio(tone(), sample_rate=8000).bytes
    path = tmp_path / "speech.wav"
    path.write_bytes(content)
    item, row = stored(Audio(path).payloads("k")[0])
    assert item.data == content and item.length == pytest.approx(0.5)
    back = decode(item.data, row)
    assert back.sample_rate == 8000 and back.bytes == content
    assert np.array_equal(back.numpy(), np.frombuffer(content[44:], "<i2"))


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg"])
def test_other_files_are_kept_as_they_are(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"clip.{fmt}"
    path.write_bytes(b"ID3 some bytes we do not decode")
    back = round_trip(Audio(str(path)))
    assert back.bytes == path.read_bytes() and back.format == fmt
    with pytest.raises(FormatError, match=fmt):
        back.numpy()


@pytest.mark.parametrize(("data", "rate", "expected"), [
    (tone(), None, "sample_rate"),
    (tone(), 0, "sample_rate"),
    (tone(), 44.1, "sample_rate"),
    (np.zeros(0), 100, "non-empty"),
    (np.zeros((2, 2, 2)), 100, "1-D"),
    (np.zeros((2, 8000)), 100, "channels"),
    (np.array([np.nan, 0.0]), 100, "finite"),
    (np.zeros(4, np.int32), 100, "int16"),
    (np.zeros(4, bool), 100, "int16"),
    ({"samples": []}, 100, "dict"),
])
def test_refused_inputs_name_the_key(data: object, rate: object, expected: str) -> None:
    with pytest.raises(InvalidValueError, match="'sound'") as info:
        Audio(data, sample_rate=rate).payloads("sound")  # type: ignore[arg-type]
    assert info.match(expected)


def test_more_samples_than_a_clip_may_hold_are_refused(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    from gittrack.formats.media import audio

    monkeypatch.setattr(audio, "MAX_BYTES", 100)
    with pytest.raises(InvalidValueError, match=r"'sound'.*shorter"):
        Audio(np.zeros(51, np.float32), sample_rate=8000).payloads("sound")
    assert Audio(np.zeros(50, np.float32), sample_rate=8000).payloads("sound")


def test_captions_are_text() -> None:
    with pytest.raises(InvalidValueError, match=r"'sound'.*caption.*surrogate"):
        Audio(tone(), sample_rate=8000, caption="\udcff").payloads("sound")


def test_refused_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match=r"'sound'.*missing.wav"):
        Audio(str(tmp_path / "missing.wav")).payloads("sound")
    (tmp_path / "notes.txt").write_text("la")
    with pytest.raises(InvalidValueError, match=r"\.wav"):
        Audio(tmp_path / "notes.txt").payloads("sound")


def test_stored_bytes_that_are_not_wav_read_as_a_format_error() -> None:
    row = Stored("audio", "wav", None, None, 1.0, None, {})
    with pytest.raises(FormatError, match="WAV"):
        decode(b"RIFF broken", row).numpy()


def test_wandb_keyword_data_or_path() -> None:
    back = round_trip(Audio(data_or_path=tone(), sample_rate=8000))
    assert back.duration == pytest.approx(0.5)
