"""Which logged values are media: ``as_media(value)``, asked by ``log()`` only for a value the
scalar path refused (so numbers never pay for it)."""

from __future__ import annotations

from typing import Any

from gittrack.errors import InvalidValueError
from gittrack.formats.media.base import Media


def as_media(value: Any, key: str | None = None) -> Media | list[Media] | None:
    """``value`` as media: a ``Media`` itself, a list or tuple whose items are all media (one
    entry of several items), a matplotlib figure or ``matplotlib.pyplot`` itself (its current
    figure, as an ``Image``); ``None`` if it is not media.
    A list mixing media with other values is ``InvalidValueError`` naming ``key``."""
    if isinstance(value, Media):
        return value
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        items = [_single(item) for item in value]
        if all(item is None for item in items):
            return None
        if any(item is None for item in items):
            bad = next(v for v, item in zip(value, items, strict=True) if item is None)
            raise InvalidValueError(
                f"cannot log {key!r}: a list of media must hold media only (Image, Video, "
                f"Audio, ...), got {type(bad).__name__} among them")
        return [item for item in items if item is not None]
    return _single(value)


def _single(value: Any) -> Media | None:
    if isinstance(value, Media):
        return value
    module = type(value).__module__ or ""
    pyplot = getattr(value, "__name__", None) == "matplotlib.pyplot"  # log({"chart": plt})
    if pyplot or (module.startswith("matplotlib.") and hasattr(value, "savefig")):
        from gittrack.formats.media.image import Image

        return Image(value)
    # -- plotly figures: added by the mediatypes part (a plotly figure keeps its JSON spec) --
    return None
