"""Imports every built-in media type, so that each registers its encoder and decoder."""

import gittrack.formats.media.image
import gittrack.formats.media.text  # noqa: F401
