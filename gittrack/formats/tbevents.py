"""TensorBoard summaries as gittrack values: one decoder for live sync and for imports.

``decode(summary)`` takes a ``Summary`` protocol buffer (TensorBoard's or tensorboardX's: only
their field names are used) and gives ``{tag: value}``: ``simple_value`` and scalar tensors as
floats, ``histo`` (and the histogram plugin's ``[k, 3]`` tensors) as ``Histogram``, ``image``
(and the image plugin's tensors) as ``Image``, text-plugin tensors as strings, and
``add_hparams``' hyperparameters as ``config``. What it cannot read (audio, PR curves, meshes,
an undecodable image, a tag that cannot be a key) is named in ``skipped``.

``read_events(path)`` reads the records of one event file (TFRecord framing, checksums checked)
and gives each ``Event``; a damaged record is a ``FormatError`` naming the file and the offset.
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gittrack.errors import FormatError, InvalidKeyError
from gittrack.formats.values import validate_key

_HUGE = 1e300  # TensorFlow's outer bucket limits are ±DBL_MAX


@dataclasses.dataclass(slots=True)
class Decoded:
    values: dict[str, Any]
    skipped: dict[str, str]  # tag -> why it was not recorded
    config: dict[str, Any] = dataclasses.field(default_factory=dict)  # add_hparams' values


def decode(summary: Any) -> Decoded:
    """The values of one ``Summary`` (see the module's docstring)."""
    out = Decoded({}, {})
    for value in summary.value:
        tag = str(value.tag)
        try:
            out.config.update(hparams(value))
            decoded = _value(value)
        except Exception as exc:  # any bytes may be hostile: PIL's bombs, odd tensors...
            out.skipped[tag] = f"cannot be read ({type(exc).__name__}: {exc})"
            continue
        if field_is_text(value) and tag.endswith(_TEXT_SUFFIX):
            tag = tag[: -len(_TEXT_SUFFIX)] or tag  # add_text("notes") writes "notes/text_summary"
        if decoded is _SILENT:
            continue
        try:
            tag = validate_key(tag)
        except InvalidKeyError as exc:
            out.skipped[tag] = f"cannot be a key: {exc}"
            continue
        if isinstance(decoded, str) and decoded.startswith("\0"):
            out.skipped[tag] = decoded[1:]
        elif decoded is not None:
            out.values[tag] = decoded
    return out


_TEXT_SUFFIX = "/text_summary"


def hparams(value: Any) -> dict[str, Any]:
    """The hyperparameters of ``add_hparams`` (the hparams plugin's session start), or ``{}``."""
    if not value.HasField("metadata") or value.metadata.plugin_data.plugin_name != "hparams":
        return {}
    data = _hparams_class().FromString(bytes(value.metadata.plugin_data.content))
    if not data.HasField("session_start_info"):
        return {}
    return {str(k): _plain(v) for k, v in data.session_start_info.hparams.items()}


def _hparams_class() -> Any:
    try:
        from tensorboard.plugins.hparams.plugin_data_pb2 import (  # type: ignore[import-untyped]
            HParamsPluginData,
        )
    except ImportError:
        from tensorboardX.proto.plugin_hparams_pb2 import (  # type: ignore[import-untyped]
            HParamsPluginData,
        )
    return HParamsPluginData


def _plain(value: Any) -> Any:
    """A ``google.protobuf.Value`` as plain data."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = float(value.number_value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind in ("string_value", "bool_value"):
        return getattr(value, kind)
    if kind == "list_value":
        return [_plain(v) for v in value.list_value.values]
    if kind == "struct_value":
        return {str(k): _plain(v) for k, v in value.struct_value.fields.items()}
    return None


def field_is_text(value: Any) -> bool:
    return bool(value.WhichOneof("value") == "tensor" and value.HasField("metadata")
                and value.metadata.plugin_data.plugin_name == "text")


def _value(value: Any) -> Any:
    plugin = str(value.metadata.plugin_data.plugin_name) if value.HasField("metadata") else ""
    if plugin in _METADATA_PLUGINS:
        return _SILENT
    field = value.WhichOneof("value")
    if field == "simple_value":
        return float(value.simple_value)
    if field == "histo":
        return histogram(value.histo.bucket_limit, value.histo.bucket, value.histo.min,
                         value.histo.max)
    if field == "image":
        return image(value.image.encoded_image_string)
    if field == "tensor":
        return _tensor(value.tensor, plugin)
    return f"\0{field or 'an empty value'} is not recorded"


_SILENT = object()
# plugins that describe the writer rather than values: hparams (add_hparams' session info; its
# metrics come as scalars), custom_scalars (a layout of charts)
_METADATA_PLUGINS = frozenset({"hparams", "custom_scalars"})


def _tensor(tensor: Any, plugin: str) -> Any:
    if plugin == "text" or (not plugin and tensor.string_val):
        texts = [s.decode("utf-8", "replace") for s in tensor.string_val]
        return texts[0] if len(texts) == 1 else "\n".join(texts)
    if plugin == "images":
        encoded = list(tensor.string_val)[2:]  # width, height, then the images
        return image(encoded[0]) if encoded else "\0an image tensor with no image"
    array = _array(tensor)
    if plugin == "histograms" and array.ndim == 2 and array.shape[1] == 3:
        if array.shape[0] == 0:
            return "\0an empty histogram is not recorded"
        edges = [float(x) for x in array[:, 0]] + [float(array[-1, 1])]
        return histogram(edges[1:], [0.0, *array[:, 2].tolist()], edges[0], edges[-1])
    if array.size == 1 and plugin in ("", "scalars") and array.dtype.kind in "fiub":
        return float(array.reshape(-1)[0])
    return f"\0a tensor of plugin {plugin or 'none'} is not recorded"


def _array(tensor: Any) -> Any:
    import numpy as np

    dims = [int(d.size) for d in tensor.tensor_shape.dim]
    for field, dtype in (("float_val", np.float32), ("double_val", np.float64),
                         ("int_val", np.int32), ("int64_val", np.int64)):
        values = list(getattr(tensor, field))
        if values:
            array = np.asarray(values, dtype=dtype)
            return array.reshape(dims) if array.size == int(np.prod(dims)) else array
    content = bytes(tensor.tensor_content)
    kinds = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 19: np.float16}
    if content and int(tensor.dtype) in kinds:
        return np.frombuffer(content, dtype=kinds[int(tensor.dtype)]).reshape(dims)
    return np.zeros((0,))


def histogram(limits: Any, counts: Any, low: float, high: float) -> Any:
    """A ``Histogram`` from TensorBoard's buckets (bucket ``i`` ends at ``limits[i]`` and starts
    at the previous limit, the first at ``low``): the empty buckets at both ends are dropped,
    and ±DBL_MAX limits become ``low``/``high``."""

    limits, counts = [float(x) for x in limits], [float(c) for c in counts]
    if len(limits) != len(counts) or not limits:
        raise ValueError(f"{len(limits)} bucket limits for {len(counts)} buckets")
    full = [i for i, c in enumerate(counts) if c]
    if not full:
        return "\0an empty histogram is not recorded"
    first, last = full[0], full[-1]
    left = limits[first - 1] if first > 0 else float(low)
    right = limits[last]
    if right >= _HUGE:
        right = max(float(high), limits[last - 1] if last > 0 else float(high))
    left = max(left, -_HUGE) if left > -_HUGE else float(low)
    edges = [left, *limits[first:last], right]
    for i in range(1, len(edges)):  # a degenerate bucket (low == its limit): widen it a hair
        if edges[i] <= edges[i - 1]:
            edges[i] = edges[i - 1] + max(abs(edges[i - 1]) * 1e-9, 1e-12)
    return _fewer(counts[first:last + 1], edges)


def _fewer(counts: list[float], edges: list[float]) -> Any:
    """At most ``MAX_BINS`` buckets: neighbours merged (PyTorch's ``bins="tensorflow"`` makes
    hundreds)."""
    from gittrack.formats.histogram import MAX_BINS, Histogram

    step = -(-len(counts) // MAX_BINS)
    if step > 1:
        counts = [sum(counts[i:i + step]) for i in range(0, len(counts), step)]
        edges = [*edges[:-1:step], edges[-1]]
    return Histogram.from_bins(counts, edges)


def image(encoded: bytes) -> Any:
    """An ``Image`` from the PNG (or JPEG, GIF) bytes of an image summary."""
    from PIL import Image as PilImage

    from gittrack.formats.media.image import Image

    with PilImage.open(io.BytesIO(bytes(encoded))) as pil:
        pil.load()
        return Image(pil.copy())


_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_CHECKED_BYTES = 1 << 20


def read_events(path: Path, event_type: Any) -> Iterator[Any]:
    """The events of the event file ``path`` (``event_type``: the ``Event`` message class)."""
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        offset = 0
        while True:
            header = stream.read(_HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                raise _damaged(path, offset, "the file ends inside a record header")
            length, length_crc = _HEADER.unpack(header)
            if _masked_crc(header[:8]) != length_crc:
                raise _damaged(path, offset, "a record length fails its checksum")
            if length > size - offset - _HEADER.size - _CRC.size:  # read nothing it lacks
                raise _damaged(path, offset, f"a record of {length:,} bytes would end past "
                               "the end of the file")
            data = stream.read(length)
            footer = stream.read(_CRC.size)
            if len(data) < length or len(footer) < _CRC.size:
                raise _damaged(path, offset, "the file ends inside a record")
            # pure-Python CRC-32C (about 5 MB/s): larger records rely on the protobuf parse
            if length <= _CHECKED_BYTES and _masked_crc(data) != _CRC.unpack(footer)[0]:
                raise _damaged(path, offset, "a record fails its checksum")
            try:
                yield event_type.FromString(data)
            except Exception as exc:  # protobuf's DecodeError: any bytes may be hostile
                raise _damaged(path, offset, f"a record is not an event ({exc})") from None
            offset += _HEADER.size + length + _CRC.size


def _damaged(path: Path, offset: int, why: str) -> FormatError:
    return FormatError(f"event file {path} is damaged at byte {offset}: {why}")


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _table()
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_TABLE: list[int] = []


def _table() -> list[int]:
    if not _TABLE:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _TABLE.append(c)
    return _TABLE


def _masked_crc(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
