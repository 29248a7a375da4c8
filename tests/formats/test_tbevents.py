"""``gittrack.formats.tbevents``: TensorBoard summaries as values; event files read safely."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from gittrack.errors import FormatError
from gittrack.formats import tbevents
from gittrack.formats.histogram import MAX_BINS

pb = pytest.importorskip("tensorboard.compat.proto.summary_pb2")
event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")


def test_pytorch_style_buckets_give_numpys_histogram() -> None:
    counts, edges = np.histogram(np.arange(10.0), bins=5)
    # torch: an empty bucket ending at the first edge, then one bucket per bin
    hist = tbevents.histogram(list(edges), [0, *counts], 0.0, 9.0)
    assert hist.counts == [float(c) for c in counts]
    assert hist.edges == pytest.approx(list(edges))


def test_tensorflow_limits_are_clipped_and_many_buckets_merged() -> None:
    limits = [*np.linspace(-1, 1, 1500).tolist(), 1.7976931348623157e308]
    counts = [1.0] * len(limits)
    hist = tbevents.histogram(limits, counts, -1.5, 1.5)
    assert hist.num_bins <= MAX_BINS
    assert sum(hist.counts) == len(limits)
    assert hist.edges[0] == -1.5 and hist.edges[-1] == 1.5
    assert all(a < b for a, b in zip(hist.edges, hist.edges[1:], strict=False))


def test_summary_values_decoded_and_unknown_ones_named() -> None:
    summary = pb.Summary(value=[
        pb.Summary.Value(tag="loss", simple_value=0.25),
        pb.Summary.Value(tag="notes/text_summary", metadata=pb.SummaryMetadata(
            plugin_data=pb.SummaryMetadata.PluginData(plugin_name="text")),
            tensor=_string_tensor(b"hi")),
        pb.Summary.Value(tag="clip", audio=pb.Summary.Audio(sample_rate=8000)),
        pb.Summary.Value(tag="broken", image=pb.Summary.Image(encoded_image_string=b"nope")),
    ])
    decoded = tbevents.decode(summary)
    assert decoded.values == {"loss": 0.25, "notes": "hi"}
    assert set(decoded.skipped) == {"clip", "broken"}


def _string_tensor(data: bytes) -> object:
    from tensorboard.compat.proto import tensor_pb2, types_pb2

    return tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[data])


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", tbevents._masked_crc(length)) + data
            + struct.pack("<I", tbevents._masked_crc(data)))


def test_records_round_trip_and_damage_is_named(tmp_path: Path) -> None:
    events = [event_pb2.Event(step=i, wall_time=float(i)) for i in range(3)]
    path = tmp_path / "events.out.tfevents.1.host"
    good = b"".join(_record(e.SerializeToString()) for e in events)
    path.write_bytes(good)
    assert [e.step for e in tbevents.read_events(path, event_pb2.Event)] == [0, 1, 2]
    path.write_bytes(good[:-2])
    with pytest.raises(FormatError, match=f"event file {path} is damaged at byte"):
        list(tbevents.read_events(path, event_pb2.Event))
    path.write_bytes(_record(b"\xff\xff\xff"))
    with pytest.raises(FormatError, match="not an event"):
        list(tbevents.read_events(path, event_pb2.Event))


def test_crc32c_matches_tensorboards() -> None:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    for data in (b"", b"a", bytes(range(256)) * 3):
        assert tbevents._masked_crc(data) == masked_crc32c(data)
