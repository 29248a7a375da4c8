"""``gittrack textconv FILE``: git's diff driver for run files (``git diff``, ``git log -p``).

``gittrack hooks install`` sets ``diff.gittrack.textconv`` in the repository's config and
``*.parquet diff=gittrack`` in ``.git/info/attributes``; git then diffs what this prints
instead of ``Binary files differ``. A Parquet file (a history, histograms, system, media,
console or code chunk, a manifest) prints as its row count, its columns with their types and
its rows, one line each (``key=value``, nulls left out, so a diff shows the rows that
changed); any other file prints as it is. A file that is not readable Parquet prints one line
and exits 0: git must not fail on a blob a remote forged.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

MAX_ROWS = 200
"""Rows printed; the rest are counted on one ``... N more rows`` line."""
MAX_CELL = 120
"""Characters of one value (a long list, a histogram's bins) before it is cut with ``…``."""
MAGIC = b"PAR1"


@click.command("textconv")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=False))
def command(file: str) -> None:
    """Print FILE as text for git's diff (a Parquet file as its columns and rows)."""
    out = sys.stdout.buffer
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        click.echo(f"not a readable Parquet file: {exc.strerror or exc}")
        return
    if not data.startswith(MAGIC) and not file.endswith(".parquet"):
        out.write(data)  # YAML, a patch: as it is
        out.flush()
        return
    for line in render(data):
        click.echo(line)


def render(data: bytes) -> list[str]:
    """The lines that show the Parquet file ``data``; one line saying why for anything else."""
    from gittrack.cli.render import printable

    try:
        lines = _lines(data)
    except Exception as exc:  # forged bytes fail in many ways; git must get text, not an error
        reason = str(exc) or type(exc).__name__
        return [printable(f"not a readable Parquet file: {reason}")[:500]]
    return [printable(line) for line in lines]


def _lines(data: bytes) -> list[str]:
    from gittrack.formats import table

    rows = table.row_count(data, what="this file")
    read = table.read_parquet(data, what="this file", first=MAX_ROWS)
    shown = read.slice(0, MAX_ROWS).to_pylist()
    columns = ", ".join(f"{field.name} {field.type}" for field in read.schema)
    lines = [f"parquet: {rows} rows, {read.num_columns} columns", f"columns: {columns}"]
    lines += [_row(row) for row in shown]
    if rows > len(shown):
        lines.append(f"... {rows - len(shown)} more rows")
    return lines


def _row(row: dict[str, Any]) -> str:
    from gittrack.formats.display import format_value

    cells = []
    for key, value in row.items():
        if value is None:
            continue
        text = (f"[{', '.join(format_value(v) for v in value)}]" if isinstance(value, list)
                else format_value(value)).replace("\n", "\\n")
        cells.append(f"{key}={text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + '…'}")
    return "  ".join(cells)
