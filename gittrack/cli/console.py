"""The console that output for people goes through: rich, with colour only on a terminal."""

from __future__ import annotations

import os
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from gittrack.cli.render import printable
from gittrack.runs.info import RunState

# A pipe or a file has no width to respect; rich would assume 80 columns and wrap tables.
_PIPE_WIDTH = 250

STATE_STYLES: dict[str, str] = {RunState.FINISHED: "green", RunState.RUNNING: "cyan",
                                 RunState.FAILED: "red", RunState.CRASHED: "bold red"}


class _Console(Console):
    """rich's console, with control characters in the text it prints shown as ``\\xNN``:
    names, keys and values may come from a remote, and must not drive the terminal. The
    colours rich adds itself are styles, applied after this, and are kept."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable() or segment.text in ("\n", " "):
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr); markup is off, so names print exactly as given, and
    control characters are escaped."""
    console = _Console(stderr=stderr, highlight=False, emoji=False, markup=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = _PIPE_WIDTH
    return console


def state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLES.get(state, ""))


def print_block(console: Console, text: Text) -> None:
    """Lines laid out by us: cut at the edge of a terminal, never wrapped; whole in a pipe."""
    if console.is_terminal:
        console.print(text, no_wrap=True, overflow="ellipsis", crop=True)
    else:
        console.print(text, soft_wrap=True)
