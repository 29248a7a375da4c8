"""Imports every built-in media type, so that each registers its encoder and decoder."""

from gittrack.formats.media import (  # noqa: F401  (imported for their registration)
    audio,
    chart,
    image,
    table,
    text,
    video,
)
