"""`gittrack log RUN`: the tail of a run's history, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from gittrack.cli.columns import Column, layout
from gittrack.cli.console import make_console, print_block
from gittrack.cli.context import CliContext
from gittrack.cli.fields import cell
from gittrack.cli.render import dumps
from gittrack.errors import NotFoundError, UsageError
from gittrack.runs.resolve import resolve_run

if TYPE_CHECKING:
    import pyarrow as pa

STEP = "_step"
_HIDDEN = ("_timestamp", "_runtime")  # shown only when asked for with -k


@click.command("log")
@click.argument("run")
@click.option("-k", "--key", "keys", multiple=True, metavar="KEY",
              help="Show KEY (repeatable); default: every key. Rows without any of them are "
                   "left out.")
@click.option("-n", "--rows", "rows", type=click.IntRange(min=1), default=20, show_default=True,
              metavar="N", help="Show the last N rows.")
@click.option("--all", "show_all", is_flag=True, help="Show every row.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of rows (null where a row has no value).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (empty where a row has no value).")
@click.pass_obj
def command(obj: CliContext, run: str, keys: tuple[str, ...], rows: int, show_all: bool,
            as_json: bool, as_csv: bool) -> None:
    """Show the last rows of RUN's history (`_step` and the logged keys)."""
    if as_json and as_csv:
        raise UsageError("--json and --csv cannot be used together")
    view = resolve_run(obj.reader(), run)
    table = history_tail(view.history_arrow(), keys, None if show_all else rows)
    if as_json:
        click.echo(dumps(table.to_pylist()))
    elif as_csv:
        write_csv(table)
    elif table.num_rows:
        print_history(table)
    else:
        make_console().print(f"run {view.name} ({view.id}) has no history rows"
                             + (" with these keys" if keys else "") + " yet")


def history_tail(full: pa.Table, keys: Sequence[str], rows: int | None) -> pa.Table:
    """``_step`` and ``keys`` (default: all logged keys), last ``rows`` rows that have one."""
    wanted = [k for k in dict.fromkeys(keys) if k != STEP] if keys else [
        name for name in full.column_names if name != STEP and name not in _HIDDEN]
    stored = set(full.column_names)  # a set: a run may have 100,000 keys
    missing = [k for k in wanted if k not in stored]
    if missing:
        logged = [n for n in full.column_names if n != STEP and n not in _HIDDEN]
        raise NotFoundError(
            f"{', '.join(map(repr, missing))} not in this run's history; logged keys: "
            f"{', '.join(logged) or '(none)'}"
        )
    selected = full.select([STEP, *wanted])
    if keys and wanted:
        selected = selected.filter(_any_valid(selected, wanted))
    start = 0 if rows is None else max(0, selected.num_rows - rows)
    return selected.slice(start)


def _any_valid(table: pa.Table, names: Sequence[str]) -> Any:
    import pyarrow.compute as pc

    mask = pc.is_valid(table.column(names[0]))
    for name in names[1:]:
        mask = pc.or_(mask, pc.is_valid(table.column(name)))
    return mask


def print_history(table: pa.Table) -> None:
    import pyarrow as pa

    columns = [Column(field.name, right=not pa.types.is_string(field.type)
                      and not pa.types.is_large_string(field.type)) for field in table.schema]
    rows = [[cell(v) for v in row.values()] for row in table.to_pylist()]
    print_block(make_console(), layout(columns, rows))


def write_csv(table: pa.Table) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(table.column_names)
    for row in table.to_pylist():
        out.writerow(["" if v is None else repr(v) if isinstance(v, float) else v
                      for v in row.values()])
