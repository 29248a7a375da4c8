"""Tables of many rows (runs, history tails), laid out here and printed as one rich ``Text``.

rich's ``Table`` measures and renders every cell on its own: about 50 µs a cell here, so
0.45 s for 1,000 runs of 8 columns and minutes for a long history. Padding the columns
ourselves takes 40 ms for the same 1,000 runs and keeps the styles (colour on a terminal).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Span, Text

from gittrack.cli.render import printable

Cell = tuple[str, str | None]
"""The text of a cell and its rich style (``None``: plain)."""

_GAP = "  "
_BLANKS = str.maketrans({"\n": " ", "\t": " "})


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    header: str
    right: bool = False


def layout(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> Text:
    """A bold header line and one line per row, each column padded to its widest cell."""
    # one line per row, and widths measured on what is printed (control characters escaped)
    cleaned = [[(printable(text).translate(_BLANKS), style) for text, style in row]
               for row in rows]
    widths = [cell_len(c.header) for c in columns]
    for row in cleaned:
        for i, (text, _) in enumerate(row):
            widths[i] = max(widths[i], cell_len(text))
    out = _Builder()
    out.line(columns, widths, [(c.header, "bold") for c in columns])
    for row in cleaned:
        out.add("\n", None)
        out.line(columns, widths, row)
    return out.text()


class _Builder:
    """The plain text and the style spans of a ``Text``, collected without ``Text.append``
    (which re-checks every piece: a third of the time for 1,000 runs)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._spans: list[Span] = []
        self._offset = 0

    def add(self, text: str, style: str | None) -> None:
        end = self._offset + len(text)
        if style:
            self._spans.append(Span(self._offset, end, style))
        self._parts.append(text)
        self._offset = end

    def line(self, columns: Sequence[Column], widths: list[int], cells: Sequence[Cell]) -> None:
        pieces: list[Cell] = []
        for i, ((text, style), width, column) in enumerate(
            zip(cells, widths, columns, strict=True)
        ):
            pad = (" " * (width - cell_len(text)), None)
            pieces += [(_GAP, None)] if i else []
            pieces += [pad, (text, style)] if column.right else [(text, style), pad]
        while pieces and not pieces[-1][0].strip():  # no trailing blanks (empty last cells)
            pieces.pop()
        for text, style in pieces:
            self.add(text, style)

    def text(self) -> Text:
        return Text("".join(self._parts), spans=self._spans)
