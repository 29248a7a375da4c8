"""Section ``media`` (issue 11): rich run data.

Three parts, one module each: images logged every step beside wandb offline
(``media_images``: cost per ``log()`` call, bytes on disk), the system-metrics sampler's CPU
cost (``media_system``) and console capture on a print-heavy loop (``media_console``).
"""

from __future__ import annotations

from bench import media_console, media_images, media_system
from bench.common import Context


def run(ctx: Context) -> None:
    for part in (media_images, media_system, media_console):
        part.run(ctx)
