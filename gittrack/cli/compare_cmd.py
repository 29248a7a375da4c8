"""`gittrack compare`: two or more runs side by side, for review and pull requests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from gittrack.cli.context import CliContext
from gittrack.cli.diff_cmd import FORMATS, cell, code, judged, percent, signed, table, value
from gittrack.cli.render import dumps
from gittrack.errors import UsageError
from gittrack.runs.compare import (
    Comparison,
    Row,
    Side,
    best_on_branches,
    compare_runs,
)
from gittrack.runs.diff import relative
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import all_runs, warn_unreadable


@click.command("compare")
@click.argument("specs", metavar="[RUN]...", nargs=-1)
@click.option("--branch", "branches", multiple=True, metavar="NAME",
              help="Compare the best run of branch NAME (repeat: two or more branches).")
@click.option("--metric", metavar="KEY",
              help="The metric that picks each branch's best run (default: the first metric "
                   "with a recorded goal).")
@click.option("--all", "everything", is_flag=True, help="Show config and summary keys that are "
              "the same in every run too.")
@click.option("--noise", is_flag=True, help="Show duration, timestamps and runtime too.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, markdown for a pull-request comment, json for tools.")
@click.pass_obj
def command(ctx: CliContext, specs: tuple[str, ...], branches: tuple[str, ...],
            metric: str | None, everything: bool, noise: bool, fmt: str) -> None:
    """Compare two or more runs (id, id prefix or name), the first as baseline.

    With --branch A --branch B, each branch's best run (by the recorded goal of --metric,
    define_metric(KEY, goal="minimize"|"maximize") or summary="min"/"max") is compared.
    Shows config keys that differ, summary values and metric last values with their delta
    from the first run (▲/▼ green when towards the goal, red when away, grey with no goal),
    each run's commit, branch and data versions used, and sparklines of metric histories.
    """
    repo = ctx.reader()
    views = [resolve_run(repo, spec) for spec in specs]
    if branches:
        views += best_on_branches(all_runs(repo, warn_unreadable), branches, metric)
    if len(views) < 2:
        raise UsageError("compare needs two or more runs (or two --branch NAME)")
    result = compare_runs(views, everything=everything, noise=noise)
    renderers: dict[str, Callable[[Comparison], str]] = {
        "json": lambda c: dumps(c.to_dict()), "markdown": render_markdown, "text": render_text}
    click.echo(renderers[fmt](result))


def _arrow(row: Row, index: int, styled: bool) -> str:
    """Delta of run ``index`` (> 0) from the first, with ▲/▼ and its colour."""
    change = row.deltas[index - 1]
    verdict = row.verdicts[index - 1]
    if change is None or verdict is None or verdict == "same":
        return ""
    mark = "▲" if change > 0 else "▼"
    text = f"{mark} {signed(change)}"
    rel = relative(row.values[0], row.values[index])
    text += f" ({percent(rel)})" if rel is not None else ""
    return judged(text, verdict, styled)


def _cell_value(row: Row, index: int) -> str:
    return value(row.key, row.values[index], meta=True) if row.present[index] else "—"


def _side_label(side: Side) -> str:
    return f"{side.name} ({side.id})"


def head_rows(runs: Sequence[Side]) -> list[list[str]]:
    """The rows naming the runs: run, commit, branch, data used (label first)."""
    return [["run", *(f"{s.name} ({s.id})" for s in runs)],
            ["commit", *((s.commit or "unknown")[:12] for s in runs)],
            ["branch", *(s.branch or "unknown" for s in runs)],
            ["data used", *(", ".join(s.used) or "none" for s in runs)]]


def row_cells(row: Row, n: int, styled: bool, spark: bool) -> list[str]:
    """A row's cell per run: sparkline, value and (after the first) the delta with ▲/▼."""
    cells = []
    for i in range(n):
        text = _cell_value(row, i)
        if spark and row.sparks and row.sparks[i]:
            text = f"{row.sparks[i]} {text}" if row.values[i] is not None else row.sparks[i]
        if i and (arrow := _arrow(row, i, styled)):
            text += f" {arrow}"
        cells.append(text)
    return cells


def sections(c: Comparison) -> list[tuple[str, tuple[Row, ...]]]:
    """The comparison's sections by title, in display order."""
    return [("config", c.config), ("summary", c.summary), ("metrics", c.metrics),
            ("noise", c.noise)]


def render_text(c: Comparison) -> str:
    n = len(c.runs)
    lines = []
    for label, *cells in head_rows(c.runs):
        lines.append(f"{label:<10} " + "  |  ".join(cells))
    for title, rows in sections(c):
        if not rows:
            continue
        lines += ["", click.style(title, bold=True)]
        keys = [row.key + (f" ({row.goal})" if row.goal else "") for row in rows]
        width = min(max(len(k) for k in keys), 48)
        for key, row in zip(keys, rows, strict=True):
            cells = row_cells(row, n, styled=True, spark=True)
            lines.append(f"  {key:<{width}}  " + "  |  ".join(cells))
    if not (c.config or c.summary or c.metrics):
        lines += ["", "no differences"]
    return "\n".join(lines)


def render_markdown(c: Comparison) -> str:
    parts = [f"### gittrack compare: {len(c.runs)} runs\n\nThe first run is the baseline; "
             "deltas are run − baseline, ✅ towards the metric's recorded goal, ❌ away."]
    return "\n\n".join(parts + markdown_tables(c)) + "\n"


def markdown_tables(c: Comparison) -> list[str]:
    """The markdown tables of a comparison: the runs (commit, branch, data used), then one
    table per section that has rows (for `compare` and `report`)."""
    n = len(c.runs)
    head = head_rows(c.runs)
    cells = [[r[0], *(code(x) if x != "none" else "none" for x in r[1:])] for r in head[1:]]
    cells[0][1:] = [f"[{text}]({side.commit_url})" if side.commit_url else text
                    for text, side in zip(cells[0][1:], c.runs, strict=True)]
    parts = [table(["", *(code(x) for x in head[0][1:])], cells, ["---"])]
    for title, rows in sections(c):
        if rows:
            body = [[code(r.key) + (f" ({r.goal})" if r.goal else ""),
                     *(cell(x) for x in row_cells(r, n, styled=False, spark=True))]
                    for r in rows]
            parts.append(f"#### {title.capitalize()}\n\n"
                         + table(["key", *(code(s.name) for s in c.runs)], body, ["---"]))
    return parts
