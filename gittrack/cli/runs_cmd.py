"""`gittrack runs`: the runs of the repository, newest first, as a table or as JSON.

The table shows the newest ``DEFAULT_LIMIT`` runs and says how many more there are (``-n N``,
``--all``): a table of 100,000 rows is read by no one, and costs seconds to draw. ``--json``
is for machines and holds every matching run unless ``-n`` says otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console

from gittrack.cli.columns import Cell, Column, layout
from gittrack.cli.console import STATE_STYLES, make_console, print_block
from gittrack.cli.context import CliContext
from gittrack.cli.fields import cell, local_time
from gittrack.cli.render import dumps, format_duration
from gittrack.cli.selection import STATES, Selection, list_selection
from gittrack.formats.display import flatten, is_number
from gittrack.runs.index import paused_gc
from gittrack.runs.view import RunView, warn_unreadable

DEFAULT_COLUMNS = 3
DEFAULT_LIMIT = 50
_SOURCES = ("summary", "config", "metadata")
_MISSING = object()


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
              help=f"Show at most N runs (the newest). Default: {DEFAULT_LIMIT} in the table, "
                   "all with --json.")
@click.option("--all", "show_all", is_flag=True, help="Show every matching run in the table.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for machines.")
@click.pass_obj
def command(obj: CliContext, states: tuple[str, ...], tags: tuple[str, ...], group: str | None,
            project: str | None, branch: str | None, filters: tuple[str, ...],
            configs: tuple[str, ...], columns: tuple[str, ...], limit: int | None,
            show_all: bool, as_json: bool) -> None:
    """List runs, newest first."""
    if show_all and limit is not None:
        raise click.UsageError("give -n/--limit or --all, not both")
    if limit is None and not (as_json or show_all):
        limit = DEFAULT_LIMIT
    selection = Selection(states=states, tags=tags, group=group, project=project,
                          branch=branch, filters=filters, configs=configs, limit=limit)
    with paused_gc():  # up to 100,000 runs' small objects, none of them garbage
        listing = list_selection(obj.reader(), selection, warn_unreadable)
        views = listing.views
        if as_json:
            click.echo(dumps([run_record(view) for view in views]))
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
            "summary": view.summary}


def print_runs(console: Console, views: Sequence[RunView], columns: Sequence[str] = ()) -> None:
    """The table of ``gittrack runs`` (also printed by ``gittrack demo``)."""
    fields = [_Fields(view) for view in views]
    keys = list(columns) or default_columns(fields)
    heads = [Column("id"), Column("name"), Column("state"), Column("created"),
             Column("duration", right=True), *(Column(k, right=True) for k in keys)]
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
