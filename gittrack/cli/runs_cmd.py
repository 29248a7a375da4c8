"""`gittrack runs`: the runs of the repository, newest first (or ``--sort KEY``), as a table,
JSON, CSV or a markdown table; each with its code commit and branch.

The table shows the newest ``DEFAULT_LIMIT`` runs and says how many more there are (``-n N``,
``--all``): a table of 100,000 rows is read by no one, and costs seconds to draw. The other
formats hold every matching run unless ``-n``/``--limit`` says otherwise."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console

from gittrack.cli.columns import Cell, Column, layout
from gittrack.cli.console import STATE_STYLES, make_console, print_block
from gittrack.cli.context import CliContext
from gittrack.cli.fields import cell, local_time
from gittrack.cli.render import dumps, format_duration
from gittrack.cli.selection import STATES, Selection, code_commits, list_selection, parse_since
from gittrack.errors import InvalidSettingError
from gittrack.formats.display import flatten, is_number
from gittrack.runs.index import paused_gc
from gittrack.runs.view import Order, RunView, sort_rank, warn_unreadable

DEFAULT_COLUMNS = 3
DEFAULT_LIMIT = 50
_SOURCES = ("summary", "config", "metadata")
_MISSING = object()
FORMATS = ("table", "json", "csv", "markdown")
SORT_FIELDS = ("created", "name", "state", "duration", "steps")
SHORT_SHA = 7


@click.command("runs")
@click.option("--state", "states", multiple=True, metavar="STATE",
              type=click.Choice(STATES, case_sensitive=False),
              help=f"Only runs in STATE ({', '.join(STATES)}); repeat for any of several.")
@click.option("--tag", "tags", multiple=True, metavar="TAG",
              help="Only runs tagged TAG; repeat to require several tags.")
@click.option("--group", metavar="GROUP", help="Only runs of this group.")
@click.option("--project", metavar="PROJECT", help="Only runs of this project.")
@click.option("--branch", metavar="BRANCH",
              help="Only runs started on this branch of the code (run.yaml's code.branch).")
@click.option("--commit", "commits", multiple=True, metavar="REV",
              help="Only runs whose code commit is REV: a full or short SHA, a branch, HEAD~1, "
                   "or a range A..B (the commits of `git rev-list A..B`). Repeat for any of "
                   "several.")
@click.option("--since", metavar="WHEN",
              help="Only runs created at or after WHEN: an ISO date or time (2026-12-01, "
                   "2026-12-01T10:00Z; local time without a zone) or a relative time "
                   "('2 days ago', 2.days, '3 hours').")
@click.option("--sort", "sort", metavar="KEY[:asc|desc]",
              help="Order by KEY: created, name, state, duration, steps, summary.KEY or "
                   "config.KEY (asc by default); runs without KEY come last.")
@click.option("-f", "--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Only runs where KEY (config.lr, summary.acc, state, ...) equals VALUE "
                   "(read as YAML: `-f 'summary.acc={$gte: 0.9}'` works too). Repeatable.")
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE",
              help="Shorthand for `-f config.KEY=VALUE`. Repeatable.")
@click.option("-c", "--columns", "columns", multiple=True, metavar="KEY",
              help="Show KEY as a column (a summary key, else a config key; or say "
                   "summary.KEY, config.KEY or metadata.KEY); repeatable. Default: the first 3 "
                   "numeric summary keys that every run listed has.")
@click.option("-n", "--limit", type=click.IntRange(min=1), metavar="N",
              help=f"Show at most N runs (the newest, or the first in --sort order), in every "
                   f"format. Default: {DEFAULT_LIMIT} in the table, all in the other formats.")
@click.option("--all", "show_all", is_flag=True, help="Show every matching run in the table.")
@click.option("--format", "output", type=click.Choice(FORMATS, case_sensitive=False),
              help="table (default), json, csv or markdown.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_obj
def command(obj: CliContext, states: tuple[str, ...], tags: tuple[str, ...], group: str | None,
            project: str | None, branch: str | None, commits: tuple[str, ...],
            since: str | None, sort: str | None, filters: tuple[str, ...],
            configs: tuple[str, ...], columns: tuple[str, ...], limit: int | None,
            show_all: bool, output: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    if show_all and limit is not None:
        raise click.UsageError("give -n/--limit or --all, not both")
    if as_json and output not in (None, "json"):
        raise click.UsageError(f"give --json or --format {output}, not both")
    output = "json" if as_json else (output or "table").lower()
    if limit is None and not (output != "table" or show_all):
        limit = DEFAULT_LIMIT
    order = parse_sort(sort) if sort is not None else None
    quick = None if order is None else cached_order(*order)
    repo = obj.reader()
    selection = Selection(states=states, tags=tags, group=group, project=project,
                          branch=branch, commits=tuple(code_commits(repo, c) for c in commits),
                          since=None if since is None else parse_since(since),
                          filters=filters, configs=configs,
                          limit=limit if order is None or quick else None, order=quick)
    with paused_gc():  # up to 100,000 runs' small objects, none of them garbage
        listing = list_selection(repo, selection, warn_unreadable)
        views = listing.views
        if order is not None and quick is None:
            views = sorted_views(views, *order)[:limit]
        if output == "json":
            click.echo(dumps([run_record(view) for view in views]))
        elif output == "csv":
            click.echo(runs_csv(views, columns), nl=False)
        elif output == "markdown":
            click.echo(runs_markdown(views, columns), nl=False)
        elif views:
            print_runs(make_console(), views, columns)
            if listing.matched > len(views) and limit == DEFAULT_LIMIT:
                more = listing.matched - len(views)
                click.echo(f"... {more:,} more run{'s' if more != 1 else ''} "
                           f"({listing.matched:,} in all): -n N or --all shows them", err=True)
        else:
            make_console().print(_nothing_message(selection, listing.total))


def run_record(view: RunView) -> dict[str, Any]:
    """One run for ``--json``."""
    return {"id": view.id, "name": view.name, "state": view.state, "project": view.project,
            "group": view.group, "job_type": view.job_type, "tags": view.tags,
            "created_at": view.created_at, "duration": view.duration, "config": view.config,
            "summary": view.summary, "commit": code_field(view, "commit"),
            "branch": code_field(view, "branch")}


def code_field(view: RunView, key: str) -> str | None:
    """run.yaml's ``code.commit`` or ``code.branch`` (``None`` outside git, or detached)."""
    value = (view.info.code or {}).get(key)
    return value if isinstance(value, str) and value else None


def short_sha(view: RunView) -> str | None:
    commit = code_field(view, "commit")
    return None if commit is None else commit[:SHORT_SHA]


def parse_sort(text: str) -> tuple[str, bool]:
    """``KEY[:asc|desc]`` as ``(key, descending)``."""
    key, colon, direction = text.rpartition(":")
    if not colon or direction.lower() not in ("asc", "desc"):
        key, direction = text, "asc"
    if not key:
        raise InvalidSettingError(f"--sort {text!r}: give KEY or KEY:asc or KEY:desc")
    return key, direction.lower() == "desc"


def cached_order(key: str, descending: bool) -> Order | None:
    """``--sort KEY`` as a sort the listing makes on the cache's values, views made only for
    the runs shown: a summary or config key without dots (``summary.loss``, ``config.lr``,
    ``loss``: summary, else config), whose value ``_Fields.get`` finds the same way. ``None``
    for the others (``SORT_FIELDS``, nested or metadata keys): ``sorted_views`` sorts them."""
    source, dot, rest = key.partition(".")
    if dot and source in ("summary", "config") and rest and "." not in rest:
        return Order((key,), descending)
    if not dot and key not in SORT_FIELDS:
        return Order((f"summary.{key}", f"config.{key}"), descending)
    return None


def sorted_views(views: Sequence[RunView], key: str, descending: bool) -> list[RunView]:
    """``views`` ordered by ``key`` (``SORT_FIELDS``, or a summary/config/metadata key as the
    columns read it); runs without a value come last either way, ties keep their order
    (newest first). Numbers sort before texts."""
    present: list[tuple[tuple[int, Any], RunView]] = []
    missing: list[RunView] = []
    for view in views:
        rank = sort_rank(_sort_value(_Fields(view), key))
        if rank is None:
            missing.append(view)
        else:
            present.append((rank, view))
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [view for _, view in present] + missing


def _sort_value(fields: _Fields, key: str) -> Any:
    view = fields.view
    if key == "created":
        return view.created_at
    if key in ("name", "state", "duration"):
        return getattr(view, key)
    if key == "steps":
        return view.info.steps
    return fields.get(key)


_HEADS = ("id", "name", "state", "created_at", "duration", "commit", "branch")


def _rows(views: Sequence[RunView], columns: Sequence[str],
          full_sha: bool) -> tuple[list[str], list[list[Any]]]:
    fields = [_Fields(view) for view in views]
    keys = list(columns) or default_columns(fields)
    rows = [[f.view.id, f.view.name, str(f.view.state), f.view.created_at, f.view.duration,
             code_field(f.view, "commit") if full_sha else short_sha(f.view),
             code_field(f.view, "branch"), *(f.get(k) for k in keys)] for f in fields]
    return [*_HEADS, *keys], rows


def runs_csv(views: Sequence[RunView], columns: Sequence[str] = ()) -> str:
    """``--format csv``: a header line, then a line per run; an empty cell for a missing value,
    a nested value as JSON."""
    heads, rows = _rows(views, columns, full_sha=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(heads)
    for row in rows:
        writer.writerow(["" if v is None else dumps(v) if isinstance(v, (dict, list))
                         else v for v in row])
    return out.getvalue()


def runs_markdown(views: Sequence[RunView], columns: Sequence[str] = ()) -> str:
    """``--format markdown``: a GitHub-flavoured table (short SHAs), for a pull request."""
    heads, rows = _rows(views, columns, full_sha=False)
    heads[3] = "created"  # local time, as the table shows it
    lines = [_markdown_line(heads), "|" + "|".join(" --- " for _ in heads) + "|"]
    for row in rows:
        row[3] = local_time(row[3])
        row[4] = format_duration(row[4])
        lines.append(_markdown_line([cell(v)[0] for v in row]))
    return "\n".join(lines) + "\n"


def _markdown_line(cells: Sequence[str]) -> str:
    escaped = (" ".join(str(c).split()).replace("|", "\\|") for c in cells)
    return "| " + " | ".join(escaped) + " |"


def print_runs(console: Console, views: Sequence[RunView], columns: Sequence[str] = ()) -> None:
    """The table of ``gittrack runs`` (also printed by ``gittrack demo``)."""
    fields = [_Fields(view) for view in views]
    keys = list(columns) or default_columns(fields)
    heads = [Column("id"), Column("name"), Column("state"), Column("created"),
             Column("duration", right=True), Column("commit"), Column("branch"),
             *(Column(k, right=True) for k in keys)]
    print_block(console, layout(heads, [_row(f, keys) for f in fields]))


def default_columns(fields: Sequence[_Fields]) -> list[str]:
    """The first numeric summary keys (in the newest run's order) that every run has."""
    if not fields:
        return []
    common = [k for k, v in fields[0].flat("summary").items()
              if is_number(v) and not k.startswith("_")]
    for f in fields[1:]:
        flat = f.flat("summary")
        common = [k for k in common if is_number(flat.get(k))]
    return common[:DEFAULT_COLUMNS]


def _row(fields: _Fields, keys: Sequence[str]) -> list[Cell]:
    view = fields.view
    return [(view.id, "yellow"), (view.name, "bold"), (view.state, STATE_STYLES.get(view.state)),
            (local_time(view.created_at), None), (format_duration(view.duration), None),
            (short_sha(view) or "-", "cyan"), cell(code_field(view, "branch")),
            *(cell(fields.get(key)) for key in keys)]


class _Fields:
    """A run's summary, config and metadata with nested keys flattened, each done once."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self._flat: dict[str, dict[str, Any]] = {}

    def flat(self, source: str) -> dict[str, Any]:
        if source not in self._flat:
            self._flat[source] = flatten(getattr(self.view, source))
        return self._flat[source]

    def get(self, key: str) -> Any:
        """``config.lr``, ``summary.acc``, ``metadata.host``, or a bare key: summary, config."""
        source, _, rest = key.partition(".")
        if source in _SOURCES and rest:
            return self._get(source, rest)
        for source in ("summary", "config"):
            value = self._get(source, key)
            if value is not None:
                return value
        return None

    def _get(self, source: str, key: str) -> Any:
        value = self.flat(source).get(key, _MISSING)
        if value is _MISSING:  # a whole nested dict, e.g. an aggregated summary
            value = getattr(self.view, source).get(key)
        return value


def _nothing_message(selection: Selection, total: int) -> str:
    if selection.query():
        # the unreadable runs were reported by the listing already: ``total`` counts the others
        return f"No runs match these filters ({total} run{'s' if total != 1 else ''} in all)."
    return "No runs in this repository yet: start one with gittrack.init(), or try `gittrack demo`."
