"""`gittrack show RUN --system`: the latest value of each system metric of a run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gittrack.formats.display import format_value
from gittrack.formats.table import SYSTEM_COLUMNS
from gittrack.runs.view import RunView


def latest(view: RunView) -> dict[str, Any]:
    """Each key's last sampled value (a key a probe skipped later keeps its earlier value),
    in the order the keys were first sampled: ``{"system.cpu": 12.5, ...}``."""
    import pyarrow.compute as pc

    samples = view.system(format="arrow")
    values: dict[str, Any] = {}
    for name in samples.column_names:
        if name not in SYSTEM_COLUMNS:
            present = pc.drop_null(samples.column(name))
            if len(present):
                values[name] = present[-1].as_py()
    return values


def as_json(view: RunView) -> dict[str, Any]:
    """What ``--json`` adds: ``{"system": {key: latest value}}``."""
    return {"system": latest(view)}


def print_system(console: Console, view: RunView) -> None:
    samples = view.system(format="arrow")
    console.print()
    console.print(Text("system", style="bold underline"))
    if not samples.num_rows:
        console.print(Text("(no samples: system metrics were off, or the run ended at once)",
                           style="dim"))
        return
    runtime = samples.column("_runtime")[-1].as_py()
    count = f"{samples.num_rows} samples" if samples.num_rows > 1 else "1 sample"
    console.print(Text(f"latest of {count}, the last at "
                       f"{runtime:.1f} s of the run", style="dim"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="cyan", no_wrap=True)
    grid.add_column()
    for key, value in latest(view).items():
        grid.add_row(key, Text(format_value(value)))
    console.print(grid)
