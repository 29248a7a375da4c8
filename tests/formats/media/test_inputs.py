"""What media types accept as data: arrays, tensors, lists, files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from gittrack.errors import InvalidValueError
from gittrack.formats.media import inputs


def test_pixels_become_uint8() -> None:
    assert inputs.as_uint8("k", np.array([0.0, 0.5, 1.0]), "Video").tolist() == [0, 128, 255]
    assert inputs.as_uint8("k", np.array([0.0, 2.0, 255.0]), "Video").tolist() == [0, 2, 255]
    assert inputs.as_uint8("k", np.array([3, 250], np.int64), "Video").dtype == np.uint8
    with pytest.raises(InvalidValueError, match=r"'k'.*-1"):
        inputs.as_uint8("k", np.array([-1, 3]), "Video")


def test_tensors_lists_and_refusals() -> None:
    torch = pytest.importorskip("torch")
    half = torch.ones(2, dtype=torch.bfloat16)
    assert inputs.is_tensor(half) and not inputs.is_tensor(np.ones(2))
    assert inputs.as_array("k", half, "Audio", "samples").dtype == np.float32
    assert inputs.as_array("k", [[1, 2], [3, 4]], "Audio", "samples").shape == (2, 2)
    with pytest.raises(InvalidValueError, match="numbers"):
        inputs.as_array("k", [[1, 2], [3]], "Audio", "samples")
    with pytest.raises(InvalidValueError, match="got set"):
        inputs.as_array("k", {1}, "Audio", "samples")


def test_files(tmp_path: Path) -> None:
    path = tmp_path / "a.OGV"
    path.write_bytes(b"OggS")
    assert inputs.file_source("k", path, "Video", ("ogg",), None) == (b"OggS", "ogg")
    assert inputs.file_source("k", np.zeros(1), "Video", ("ogg",), None) is None
    assert inputs.file_source("k", b"OggS", "Video", ("ogg",), "ogg") == (b"OggS", "ogg")
    with pytest.raises(InvalidValueError, match="binary file object"):
        inputs.file_source("k", io.StringIO("text"), "Video", ("ogg",), "ogg")
