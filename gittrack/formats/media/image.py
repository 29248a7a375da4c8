"""``gittrack.Image``: pictures as Weights & Biases' ``wandb.Image`` takes them.

Accepted (``docs/media.md``): numpy arrays HW, HWC (C = 1, 3, 4) or CHW, of uint8, of other
integers within 0..255, of bools (×255), or of floats within [0, 1] (×255, cut to an integer as
W&B does); PIL images; torch tensors (CHW, as W&B reads them; torch is never imported here);
matplotlib figures (rendered to PNG); and file paths (png, jpg/jpeg, gif, bmp, webp: the file's
bytes are kept as they are). Pixels are stored as PNG unless ``file_type`` says otherwise.

The pixels are captured when the ``Image`` is made (a buffer reused later does not change what
is logged); what is wrong with the data is reported by ``log()``, naming the key.

``boxes`` (detection) and ``masks`` (segmentation) take W&B's shapes and are kept beside the
image as content, never in git: an image logged with them is two items of its entry, the image
then its annotations (kind ``image-annotations``: one JSON file holding the boxes and each
mask's class map as a PNG, base64), a blob of the project's store like the pixels (encrypted
for a private project). The image's index row says only that they are there: ``meta``
``{"annotations": {"offset": 1, "boxes": {name: count}, "masks": [name, ...]}}``. Reading
back, ``gather`` puts them back on their image. A row of an older run with ``boxes``/``masks``
inline in its ``meta`` is read as it was (``docs/format.md``, "Media").
"""

from __future__ import annotations

import base64
import builtins
import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media.base import Encoded, Media, Payload, Stored, register

if TYPE_CHECKING:
    import numpy as np

KIND = "image"
ANNOTATIONS = "image-annotations"
"""The kind of the item that follows an image logged with boxes or masks: those, as JSON."""
FILE_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "gif": "gif", "bmp": "bmp",
                "webp": "webp"}
"""A file's extension → the format it is stored as (the bytes are kept as they are)."""
_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "bmp": "BMP", "webp": "WEBP"}
MODES = ("1", "L", "LA", "P", "RGB", "RGBA")
"""``mode=``: the PIL mode the pixels are converted to before they are encoded."""
_CHANNEL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
_MAX_PIXELS = 1 << 28  # 268 megapixels: what Pillow itself refuses as a decompression bomb
_MAX_CLASS = 65535  # mask class ids are stored as 16-bit PNG


class _Refused(Exception):
    """What is wrong with an image's data; ``log()`` names the key."""


class Image(Media):
    """An image to log: ``run.log({"examples": gittrack.Image(array, caption="a cat")})``.

    Read back (``RunView.media``) it is an ``Image`` too: ``.numpy()`` decodes the stored file
    to an HxW or HxWxC uint8 array; ``.bytes`` is the stored file, ``.format`` its extension.
    """

    kind = KIND

    def __init__(
        self, data: Any, caption: Any = None, mode: str | None = None,
        boxes: Mapping[str, Any] | None = None, masks: Mapping[str, Any] | None = None,
        file_type: str | None = None, **_ignored: Any,
    ) -> None:
        self.caption: str | None = None if caption is None else str(caption)
        self.mode = mode
        self.boxes: dict[str, Any] | None = None
        self.masks: dict[str, Any] | None = None
        self._pixels: np.ndarray | None = None
        self._file: builtins.bytes | None = None
        self._format = "png"
        self._size = (0, 0)
        self._error: str | None = None
        self._mask_arrays: dict[str, np.ndarray] = {}
        self._annotations_at = 0
        """Read back: the item after this one holding its boxes and masks (0: none)."""
        try:
            if mode is not None and mode not in MODES:
                raise _Refused(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
            self._capture(data, file_type)
            if boxes is not None:
                self.boxes = _check_boxes(boxes)
            if masks is not None:
                self.masks, self._mask_arrays = _check_masks(masks, self._size)
        except _Refused as exc:
            self._error = str(exc)

    # -- capture -------------------------------------------------------------------------
    def _capture(self, data: Any, file_type: str | None) -> None:
        if file_type is not None:
            fmt = FILE_FORMATS.get(str(file_type).lower().lstrip("."))
            if fmt is None:
                raise _Refused(f"file_type must be one of {', '.join(FILE_FORMATS)}, "
                               f"got {file_type!r}")
            self._format = fmt
        if isinstance(data, (str, os.PathLike)):
            self._from_path(Path(data))
            return
        if getattr(data, "__name__", None) == "matplotlib.pyplot" and hasattr(data, "gcf"):
            data = data.gcf()  # Image(plt), as W&B takes it: the current figure
        module = type(data).__module__ or ""
        if module.startswith("PIL.") or _is_pil(data):
            self._set_pixels(_pil_pixels(data))
            return
        if module.startswith("matplotlib.") and hasattr(data, "savefig"):
            self._from_figure(data)
            return
        if module.startswith("torch") and hasattr(data, "detach"):
            array = _stretched(_torch_array(data))
            self._set_pixels(_pixels(array, channels_first=True))
            return
        if isinstance(data, Image):
            self._pixels, self._file, self._format = data._pixels, data._file, data._format
            self._size, self._error = data._size, data._error
            if self._error:
                raise _Refused(self._error)
            return
        import numpy as np

        if not isinstance(data, np.ndarray) and not hasattr(data, "__array__"):
            raise _Refused(
                "expected a numpy array (HW, HWC or CHW), a PIL image, a torch tensor, a "
                f"matplotlib figure or an image file path, got {type(data).__module__}."
                f"{type(data).__qualname__}")
        try:
            array = np.asarray(data)
        except Exception as exc:
            raise _Refused(f"cannot read {type(data).__name__} as an array: {exc}") from None
        self._set_pixels(_pixels(array, channels_first=False))

    def _set_pixels(self, pixels: np.ndarray) -> None:
        self._pixels = pixels
        self._size = (int(pixels.shape[1]), int(pixels.shape[0]))

    def _from_path(self, path: Path) -> None:
        fmt = FILE_FORMATS.get(path.suffix.lower().lstrip("."))
        if fmt is None:
            raise _Refused(f"image file {str(path)!r}: expected a .png, .jpg, .jpeg, .gif, "
                           f".bmp or .webp file, got {path.suffix or 'no extension'!r}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _Refused(f"cannot read image file {str(path)!r}: "
                           f"{exc.strerror or exc}") from None
        if not data:
            raise _Refused(f"image file {str(path)!r} is empty")
        self._set_file(data, fmt, f"image file {str(path)!r}")

    def _set_file(self, data: builtins.bytes, fmt: str, what: str) -> None:
        size = _file_size(data, what)
        self._file, self._format, self._size = data, fmt, size

    def _from_figure(self, figure: Any) -> None:
        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format="png")  # the Agg renderer, whatever the backend
        except Exception as exc:
            raise _Refused(f"cannot render the matplotlib figure: {exc}") from None
        self._set_file(buffer.getvalue(), "png", "the matplotlib figure")

    # -- the protocol --------------------------------------------------------------------
    def payloads(self, key: str) -> list[Payload]:
        if self._error is not None:
            raise InvalidValueError(f"cannot log {key!r}: {self._error}")
        if self.caption is not None and not _utf8(self.caption):
            raise InvalidValueError(f"cannot log {key!r}: the caption is not valid Unicode")
        spec: dict[str, Any] = {"caption": self.caption, "width": self._size[0],
                                "height": self._size[1], "format": self._format}
        raw: builtins.bytes | memoryview
        if self._pixels is not None:
            pixels = self._pixels
            spec["pixels"] = _CHANNEL_MODES[1 if pixels.ndim == 2 else pixels.shape[2]]
            if self.mode is not None:
                spec["mode"] = self.mode
            raw = pixels.data.cast("B")
        else:
            assert self._file is not None
            raw = self._file
        if self.boxes is None and self.masks is None:
            return [Payload(KIND, raw, spec)]
        annotations = self._annotations_payload()
        spec["annotations"] = {
            "offset": 1,
            "boxes": {n: len(g.get("box_data") or []) for n, g in (self.boxes or {}).items()},
            "masks": list(self.masks or {})}
        return [Payload(KIND, raw, spec), annotations]

    def _annotations_payload(self) -> Payload:
        """The item after the image: its boxes and masks (the class maps as uint16 arrays)."""
        import numpy as np

        spec: dict[str, Any] = {"width": self._size[0], "height": self._size[1]}
        parts: list[builtins.bytes | memoryview] = []
        if self.boxes is not None:
            spec["boxes"] = {name: {"box_data": list(group.get("box_data") or []),
                                    "class_labels": _str_keys(group.get("class_labels"))}
                             for name, group in self.boxes.items()}
        if self.masks is not None:
            masks = {}
            offset = 0
            for name, mask in self.masks.items():
                array = self._mask_arrays.get(name)
                if array is None:  # an image read back, logged again
                    array = np.ascontiguousarray(mask["mask_data"], dtype="<u2")
                masks[name] = {"offset": offset,
                               "class_labels": _str_keys(mask.get("class_labels"))}
                parts.append(array.data.cast("B"))
                offset += array.nbytes
            spec["masks"] = masks
        return Payload(ANNOTATIONS, b"".join(parts), spec)

    # -- reading back --------------------------------------------------------------------
    @property
    def format(self) -> str:
        """The stored file's extension: ``png`` unless a file of another format was given."""
        return self._format

    @property
    def width(self) -> int:
        return self._size[0]

    @property
    def height(self) -> int:
        return self._size[1]

    @property
    def bytes(self) -> builtins.bytes:
        """The stored file (for an ``Image`` made here: the file it will be stored as)."""
        if self._file is None:
            if self._error is not None:
                raise InvalidValueError(f"this image cannot be stored: {self._error}")
            assert self._pixels is not None
            self._file = _encode_pixels(self._pixels, self.mode, self._format)
        return self._file

    @property
    def image(self) -> Any:
        """The picture as a PIL image (``wandb.Image(...).image``), decoded from ``bytes``."""
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(self.bytes)) as image:
            image.load()
            return image.copy()

    def numpy(self) -> np.ndarray:
        """The pixels: an HxW (grey) or HxWxC (C = 3 or 4) uint8 array."""
        import numpy as np

        if self._pixels is not None and self.mode is None:
            copied: np.ndarray = self._pixels.copy()
            return copied
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(self.bytes)) as image:
            image.load()
            if image.mode not in ("L", "RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.mode or "transparency"
                                      in image.info else ("L" if image.mode in ("1", "I;16", "I")
                                                          else "RGB"))
            pixels: np.ndarray = np.asarray(image).copy()
            return pixels

    @classmethod
    def _stored(cls, data: builtins.bytes, stored: Stored) -> Image:
        image = cls.__new__(cls)
        image.caption = stored.caption
        image.mode = None
        image._pixels = None
        image._file = data
        image._format = stored.format
        image._size = (stored.width or 0, stored.height or 0)
        image._error = None
        image._mask_arrays = {}
        meta = stored.meta
        image._annotations_at = 0
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping):  # in the item ``offset`` after this one
            offset = annotations.get("offset")
            image._annotations_at = offset if type(offset) is int and offset > 0 else 0
            image.boxes = image.masks = None
        else:  # a run written before annotations were items: inline in the row's meta
            image.boxes = _boxes_read(meta.get("boxes")) if meta.get("boxes") else None
            image.masks = _masks_read(meta.get("masks")) if meta.get("masks") else None
        return image

    def __repr__(self) -> str:
        caption = f" caption={self.caption!r}" if self.caption is not None else ""
        return f"<gittrack.Image {self._size[0]}x{self._size[1]} {self._format}{caption}>"


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- pixels ------------------------------------------------------------------------------
def _is_pil(data: Any) -> bool:
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image"
               for c in type(data).__mro__)


def _pil_pixels(image: Any) -> np.ndarray:
    import numpy as np

    mode = image.mode
    try:
        if mode not in ("L", "RGB", "RGBA"):
            alpha = "A" in mode or "transparency" in image.info
            image = image.convert("RGBA" if alpha else ("L" if mode in ("1", "I;16", "I", "F")
                                                        else "RGB"))
        array = np.asarray(image)
    except Exception as exc:
        raise _Refused(f"cannot read the PIL image ({mode}): {exc}") from None
    return _pixels(array, channels_first=False)


def _torch_array(tensor: Any) -> np.ndarray:
    try:
        array = tensor.detach().cpu()
        if str(getattr(array, "dtype", "")) == "torch.bfloat16":
            array = array.float()
        result: np.ndarray = array.numpy()
    except Exception as exc:
        raise _Refused(f"cannot read the torch tensor: {exc}") from None
    return result


def _stretched(array: np.ndarray) -> np.ndarray:
    """A float tensor outside [0, 1] (a normalized input batch: MNIST's are -0.42..2.8) scaled
    to [0, 1] by its minimum and maximum, as ``wandb.Image`` does for tensors
    (``make_grid(normalize=True)``); one within [0, 1] as it is."""
    import numpy as np

    if array.dtype.kind != "f" or array.size == 0 or not np.isfinite(array).all():
        return array  # refused (or taken) by _pixels
    low, high = float(array.min()), float(array.max())
    if low >= 0 and high <= 1:
        return array
    scaled: np.ndarray = np.clip((array - low) / (high - low + 1e-5), 0, 1)
    return scaled


def _pixels(array: np.ndarray, *, channels_first: bool) -> np.ndarray:
    """``array`` as contiguous uint8 pixels, HW or HWC (C = 3 or 4), or ``_Refused``."""
    import numpy as np

    shape, source = array.shape, array
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim not in (2, 3):
        raise _Refused(f"expected an image array of shape HW, HWC or CHW (C = 1, 3 or 4), "
                       f"got shape {shape}" + (" (a batch: log a list of Images)"
                                               if array.ndim == 4 else ""))
    if array.size == 0:
        raise _Refused(f"the image array is empty (shape {shape})")
    if array.ndim == 3:
        first, last = array.shape[0] in (1, 3, 4), array.shape[2] in (1, 3, 4)
        if first and (channels_first or not last):
            array = array.transpose(1, 2, 0)
        elif not last:
            raise _Refused(f"expected an image array of shape HW, HWC or CHW (C = 1, 3 or 4), "
                           f"got shape {shape}")
        if array.shape[2] == 1:
            array = array[:, :, 0]
    if array.shape[0] * array.shape[1] > _MAX_PIXELS:
        raise _Refused(f"the image has {array.shape[0] * array.shape[1]:,} pixels, more than "
                       f"{_MAX_PIXELS:,}")
    kind = array.dtype.kind
    if kind == "b":
        array = array.astype(np.uint8) * np.uint8(255)
    elif array.dtype == np.uint8:
        pass
    elif kind in "iu":
        lo, hi = int(array.min()), int(array.max())
        if lo < 0 or hi > 255:
            raise _Refused(f"expected integer pixel values within 0..255, got values from "
                           f"{lo} to {hi} ({array.dtype})")
        array = array.astype(np.uint8)
    elif kind == "f":
        if not np.isfinite(array).all():
            raise _Refused(f"the image holds NaN or infinite values ({array.dtype})")
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 1:
            raise _Refused(f"expected float pixel values within [0, 1], got values from "
                           f"{low:g} to {high:g} (scale them, or pass uint8)")
        array = (array * 255).astype(np.uint8)  # cut, as wandb.Image does
    else:
        raise _Refused(f"expected an array of uint8, bool or float pixels, got dtype "
                       f"{array.dtype}")
    pixels = np.ascontiguousarray(array)
    # the caller's buffer may change after log(): what is logged is what it held now
    return pixels.copy() if np.may_share_memory(pixels, source) else pixels


def _file_size(data: bytes, what: str) -> tuple[int, int]:
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception as exc:
        raise _Refused(f"{what} is not a readable image: {exc}") from None
    return int(width), int(height)


def _encode_pixels(pixels: np.ndarray, mode: str | None, fmt: str) -> bytes:
    from PIL import Image as PILImage

    image = PILImage.fromarray(pixels)
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    if fmt == "jpg" and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    out = io.BytesIO()
    if fmt == "png":
        image.save(out, format="PNG", compress_level=PNG_LEVEL)
    else:
        image.save(out, format=_PIL_FORMATS[fmt])
    return out.getvalue()


PNG_LEVEL = 6
"""zlib level of the PNGs made here: Pillow's (and so W&B's) default. Encoding happens in the
checkpoint thread, several images at once; level 1 would take half the time for files up to
70% larger (docs/decisions.md)."""


# -- boxes and masks ---------------------------------------------------------------------
_BOX_KEYS = {"position", "domain", "class_id", "box_caption", "scores"}


def _finite(value: Any, what: str) -> float | int:
    if isinstance(value, bool) or (not isinstance(value, (int, float)) and not hasattr(
            value, "__float__")):
        raise _Refused(f"{what} must be a number, got {value!r}")
    number: float | int = value if isinstance(value, int) else float(value)
    if isinstance(number, float) and not math.isfinite(number):
        raise _Refused(f"{what} must be a finite number, got {value!r}")
    return number


def _class_id(value: Any, what: str) -> int:
    import operator

    if isinstance(value, bool):
        raise _Refused(f"{what} must be an int, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise _Refused(f"{what} must be an int, got {value!r}") from None


def _labels(value: Any, what: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _Refused(f"{what} must be a dict of int class id -> str label, got {value!r}")
    return {str(_class_id(k, f"{what} key")): str(v) for k, v in value.items()}


def _check_boxes(boxes: Any) -> dict[str, Any]:
    if not isinstance(boxes, Mapping):
        raise _Refused('boxes must be a dict like {"predictions": {"box_data": [...], '
                       f'"class_labels": {{...}}}}}}, got {type(boxes).__name__}')
    out: dict[str, Any] = {}
    for name, group in boxes.items():
        where = f"boxes[{name!r}]"
        if not isinstance(name, str) or not isinstance(group, Mapping):
            raise _Refused(f"{where} must be a dict with \"box_data\" under a str name")
        data = group.get("box_data")
        if not isinstance(data, (list, tuple)):
            raise _Refused(f"{where} needs \"box_data\": a list of boxes")
        kept = [_check_box(box, f"{where}['box_data'][{i}]") for i, box in enumerate(data)]
        out[name] = {"box_data": kept,
                     "class_labels": _labels(group.get("class_labels"), f"{where} class_labels")}
    return out


def _check_box(box: Any, where: str) -> dict[str, Any]:
    if not isinstance(box, Mapping):
        raise _Refused(f"{where} must be a dict, got {type(box).__name__}")
    position = box.get("position")
    if not isinstance(position, Mapping):
        raise _Refused(f"{where} needs \"position\": {{minX, maxX, minY, maxY}} or "
                       "{middle: [x, y], width, height}")
    if all(k in position for k in ("minX", "maxX", "minY", "maxY")):
        pos: dict[str, Any] = {k: _finite(position[k], f"{where} position {k}")
                               for k in ("minX", "maxX", "minY", "maxY")}
    elif all(k in position for k in ("middle", "width", "height")):
        middle = position["middle"]
        if not isinstance(middle, (list, tuple)) or len(middle) != 2:
            raise _Refused(f"{where} position middle must be [x, y], got {middle!r}")
        pos = {"middle": [_finite(v, f"{where} position middle") for v in middle],
               "width": _finite(position["width"], f"{where} position width"),
               "height": _finite(position["height"], f"{where} position height")}
    else:
        raise _Refused(f"{where} position needs minX, maxX, minY, maxY or middle, width, "
                       f"height; got {sorted(map(str, position))}")
    if "class_id" not in box:
        raise _Refused(f"{where} needs \"class_id\" (an int)")
    out: dict[str, Any] = {"position": pos, "class_id": _class_id(box["class_id"],
                                                                  f"{where} class_id")}
    domain = box.get("domain")
    if domain is not None:
        if domain != "pixel":
            raise _Refused(f"{where} domain must be \"pixel\" or absent (fractions of the "
                           f"image), got {domain!r}")
        out["domain"] = domain
    if box.get("box_caption") is not None:
        out["box_caption"] = str(box["box_caption"])
    scores = box.get("scores")
    if scores is not None:
        if not isinstance(scores, Mapping):
            raise _Refused(f"{where} scores must be a dict of name -> number")
        out["scores"] = {str(k): _finite(v, f"{where} score {k!r}") for k, v in scores.items()}
    return out


def _check_masks(masks: Any, size: tuple[int, int]) -> tuple[dict[str, Any],
                                                              dict[str, np.ndarray]]:
    import numpy as np

    if not isinstance(masks, Mapping):
        raise _Refused('masks must be a dict like {"predictions": {"mask_data": array, '
                       f'"class_labels": {{...}}}}}}, got {type(masks).__name__}')
    out: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    width, height = size
    for name, group in masks.items():
        where = f"masks[{name!r}]"
        if not isinstance(name, str) or not isinstance(group, Mapping):
            raise _Refused(f"{where} must be a dict with \"mask_data\" under a str name")
        if "mask_data" in group:
            data = group["mask_data"]
            if type(data).__module__.startswith("torch"):
                data = _torch_array(data)
            array = np.asarray(data)
        elif "path" in group:
            array = _read_mask(group["path"], where)
        else:
            raise _Refused(f"{where} needs \"mask_data\" (a 2-D int array) or \"path\"")
        if array.ndim != 2 or array.size == 0:
            raise _Refused(f"{where} mask_data must be a 2-D array of class ids, got shape "
                           f"{array.shape}")
        if array.shape != (height, width):
            raise _Refused(f"{where} mask_data has shape {array.shape}, the image is "
                           f"{(height, width)} (H, W)")
        if array.dtype.kind == "f":
            if not np.isfinite(array).all() or not (array == np.floor(array)).all():
                raise _Refused(f"{where} mask_data must hold whole class ids")
        elif array.dtype.kind not in "iub":
            raise _Refused(f"{where} mask_data must hold int class ids, got {array.dtype}")
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > _MAX_CLASS:
            raise _Refused(f"{where} class ids must be within 0..{_MAX_CLASS}, got {low}..{high}")
        arrays[name] = np.ascontiguousarray(array, dtype="<u2")
        out[name] = {"class_labels": _labels(group.get("class_labels"),
                                             f"{where} class_labels")}
    return out, arrays


def _read_mask(path: Any, where: str) -> np.ndarray:
    import numpy as np
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as image:
            array: np.ndarray = np.asarray(image)
            return array
    except Exception as exc:
        raise _Refused(f"{where} path {str(path)!r} is not a readable image: {exc}") from None


def _mask_png(array: np.ndarray) -> bytes:
    import numpy as np
    from PIL import Image as PILImage

    out = io.BytesIO()
    if int(array.max()) < 256:
        PILImage.fromarray(array.astype(np.uint8)).save(out, format="PNG")
    else:
        PILImage.fromarray(array.astype(np.uint16)).save(out, format="PNG")
    return out.getvalue()


def _boxes_read(value: Any) -> dict[str, Any]:
    out = {}
    for name, group in dict(value).items():
        labels = group.get("class_labels")
        out[name] = {"box_data": list(group.get("box_data") or []),
                     "class_labels": {int(k): v for k, v in labels.items()} if labels else {}}
    return out


def _masks_read(value: Any) -> dict[str, Any]:
    import numpy as np
    from PIL import Image as PILImage

    out = {}
    for name, group in dict(value).items():
        with PILImage.open(io.BytesIO(base64.b64decode(group["png"]))) as image:
            array = np.asarray(image).astype(np.int64)
        labels = group.get("class_labels")
        out[name] = {"mask_data": array,
                     "class_labels": {int(k): v for k, v in labels.items()} if labels else {}}
    return out


def _str_keys(labels: Any) -> dict[str, Any] | None:
    return None if labels is None else {str(k): v for k, v in dict(labels).items()}


class Annotations:
    """The boxes and masks of an image, read back from their own item; ``gather`` puts them
    on their image (``Image.boxes``, ``Image.masks``)."""

    __slots__ = ("boxes", "masks")

    def __init__(self, boxes: dict[str, Any] | None, masks: dict[str, Any] | None) -> None:
        self.boxes, self.masks = boxes, masks

    def __repr__(self) -> str:
        return f"<gittrack image annotations boxes={list(self.boxes or {})} " \
               f"masks={list(self.masks or {})}>"


def fold_annotations(values: list[Any]) -> list[tuple[int, Any]]:
    """The values of one media entry read back, each with its position among the entry's
    items, the annotations put on their image and taken out of the list."""
    out: list[tuple[int, Any]] = []
    waiting: dict[int, Image] = {}
    for position, value in enumerate(values):
        if isinstance(value, Annotations):
            image = waiting.pop(position, None)
            if image is not None:
                image.boxes, image.masks = value.boxes, value.masks
                continue
        elif isinstance(value, Image) and value._annotations_at:
            waiting[position + value._annotations_at] = value
        out.append((position, value))
    return out


# -- encoders and decoders ---------------------------------------------------------------
def _annotations_meta(spec: Mapping[str, Any], raw: memoryview, width: int,
                      height: int) -> dict[str, Any]:
    """``{"boxes": ..., "masks": {name: {"png": base64, "class_labels": ...}}}`` of a spec
    whose masks are ``width`` x ``height`` uint16 arrays at their ``offset`` in ``raw``."""
    import numpy as np

    out: dict[str, Any] = {}
    if spec.get("boxes"):
        out["boxes"] = spec["boxes"]
    masks_spec = spec.get("masks") or {}
    if masks_spec:
        masks = {}
        for name, mask in masks_spec.items():
            start = int(mask["offset"])
            array = np.frombuffer(raw[start:start + width * height * 2], dtype="<u2")
            png = _mask_png(array.reshape(height, width))
            masks[name] = {"png": base64.b64encode(png).decode("ascii"),
                           "class_labels": mask.get("class_labels")}
        out["masks"] = masks
    return out


def encode(payload: Payload) -> Encoded:
    import numpy as np

    spec = payload.spec
    raw = memoryview(payload.raw).cast("B")
    width, height, fmt = int(spec["width"]), int(spec["height"]), str(spec["format"])
    # a payload spooled before annotations were their own item holds the masks after the
    # pixels, and its boxes and masks go into the row's meta as they did then
    masks_spec = spec.get("masks") or {}
    end = min([int(m["offset"]) for m in masks_spec.values()], default=len(raw))
    if "pixels" in spec:
        mode = str(spec["pixels"])
        channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        shape = (height, width) if channels == 1 else (height, width, channels)
        pixels = np.frombuffer(raw[:end], dtype=np.uint8).reshape(shape)
        data = _encode_pixels(pixels, spec.get("mode"), fmt)
    else:
        data = bytes(raw[:end])
    if spec.get("annotations"):
        meta: dict[str, Any] = {"annotations": dict(spec["annotations"])}
    else:
        meta = _annotations_meta(spec, raw, width, height)
    return Encoded(data=data, format=fmt, width=width, height=height,
                   caption=spec.get("caption"), meta=meta)


def decode(data: bytes, stored: Stored) -> Image:
    return Image._stored(data, stored)


def encode_annotations(payload: Payload) -> Encoded:
    """One JSON file: the boxes as logged and each mask's class map as a PNG (base64). The
    index row's meta stays empty: all of it is content."""
    import json

    spec = payload.spec
    width, height = int(spec["width"]), int(spec["height"])
    document = _annotations_meta(spec, memoryview(payload.raw).cast("B"), width, height)
    data = json.dumps(document, separators=(",", ":"), allow_nan=False).encode("ascii")
    return Encoded(data=data, format="json", width=width, height=height)


def decode_annotations(data: bytes, stored: Stored) -> Annotations:
    import json

    try:
        document = json.loads(data)
        if not isinstance(document, dict):
            raise TypeError("not a JSON object")
        boxes = _boxes_read(document["boxes"]) if document.get("boxes") else None
        masks = _masks_read(document["masks"]) if document.get("masks") else None
    except Exception as exc:  # a blob gittrack did not write (forged, or from elsewhere)
        raise FormatError(f"cannot read image annotations: {type(exc).__name__}: "
                          f"{exc}"[:500]) from None
    return Annotations(boxes, masks)


register(KIND, encode, decode)
register(ANNOTATIONS, encode_annotations, decode_annotations, part=True)
