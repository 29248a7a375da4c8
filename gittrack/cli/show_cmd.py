"""`gittrack show RUN`: one run's metadata, config and summary."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gittrack.cli.console import make_console, state_text
from gittrack.cli.context import CliContext
from gittrack.cli.fields import local_time
from gittrack.cli.render import dumps, format_duration, format_size
from gittrack.formats.display import flatten, format_value
from gittrack.runs.info import RunInfo
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import RunView

if TYPE_CHECKING:
    from gittrack.runs.media_index import MediaRow

Field = tuple[str, Any]


@click.command("show")
@click.argument("run")
@click.option("--media", "media", is_flag=True,
              help="List the run's media keys instead: type, items, steps, bytes.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {metadata, config, summary} as JSON for machines (with --media: "
                   "a list of {key, type, count, first_step, last_step, bytes}).")
@click.option("--code", "with_code", is_flag=True,
              help="List the files the run saved with save_code (patch, entry point, packages).")
@click.option("--console", "show_console", is_flag=True,
              help="Print what the run printed to stdout and stderr (W&B's output.log) "
                   "instead; with --json, as the field \"console\".")
@click.option("--system", "system", is_flag=True,
              help="Also the latest value of each system metric (CPU, memory, GPUs...).")
@click.pass_obj
def command(obj: CliContext, run: str, media: bool, as_json: bool, with_code: bool,
            show_console: bool, system: bool) -> None:
    """Show RUN (an id, a unique id prefix, or a name): metadata, config and summary.

    With --media: the media it logged instead, one line per key."""
    from gittrack.cli import show_system

    repo = obj.reader()
    view = resolve_run(repo, run)
    if with_code:
        _show_code(view, as_json)
        return
    if media:
        keys = media_keys(view.media_rows())
        if as_json:
            click.echo(dumps([dataclasses.asdict(k) for k in keys]))
        else:
            print_media(make_console(), view, keys)
    elif show_console and not as_json:
        print_console(make_console(), view.console())
    elif as_json:
        shown: dict[str, Any] = {"metadata": view.metadata, "config": view.config,
                                 "summary": view.summary}
        if show_console:
            shown["console"] = view.console()
        if system:
            shown.update(show_system.as_json(view))
        click.echo(dumps(shown))
    else:
        from gittrack.runs.lineage import notes

        console = make_console()
        print_run(console, view, notes(repo, view))
        if system:
            show_system.print_system(console, view)


def print_run(console: Console, view: RunView,
              notes: Mapping[str, str] | None = None) -> None:
    """What ``gittrack show`` prints (also printed by ``gittrack demo``). ``notes``: artifact
    versions the run recorded that are not here, and why (``removed``)."""
    info = view.info
    console.print(Text.assemble(("run ", "bold"), (view.name, "bold"), f"  {view.id}"))
    console.print(_grid(_metadata_fields(info)))
    code = info.code or {}
    if any(v is not None for v in code.values()):
        _section(console, "code", _code_fields(code))
    _section(console, "config", flatten(view.config).items())
    _section(console, "summary", flatten(view.summary).items())
    lineage = info.artifacts
    if lineage:
        noted = notes or {}
        _section(console, "artifacts", [
            (role, ", ".join(_noted(spec, noted) for spec in specs))
            for role, specs in lineage.items() if role in ("used", "logged")])


def print_console(console: Console, output: str) -> None:
    """A run's console output: its ANSI colours as colours on a terminal (dropped in a pipe),
    any other control sequence dropped or shown as ``\\xNN`` (it may come from a remote and
    must not drive the terminal); lines never wrapped by us."""
    if output:
        console.print(Text.from_ansi(output, end=""), soft_wrap=True, end="")

@dataclasses.dataclass(frozen=True, slots=True)
class MediaKey:
    """What ``show --media`` says of one key: its files' type(s), how many, the steps they
    were logged at and their bytes."""

    key: str
    type: str
    """The media kind (``image``, ``video``...); kinds joined by ``,`` in the order first
    logged, for a key that held several."""
    count: int
    first_step: int
    last_step: int
    bytes: int


def media_keys(rows: Iterable[MediaRow]) -> list[MediaKey]:
    """One ``MediaKey`` per key of the media index ``rows``, in the order first logged. An
    item that is part of another (an image's annotations) adds its bytes, not a file."""
    from gittrack.formats.media.base import is_part

    kinds: dict[str, dict[str, None]] = {}
    count: dict[str, int] = {}
    steps: dict[str, tuple[int, int]] = {}
    size: dict[str, int] = {}
    for row in rows:
        part = is_part(row.type)
        kinds.setdefault(row.key, {})
        if not part:
            kinds[row.key][row.type] = None
        count[row.key] = count.get(row.key, 0) + (0 if part else 1)
        low, high = steps.get(row.key, (row.step, row.step))
        steps[row.key] = (min(low, row.step), max(high, row.step))
        size[row.key] = size.get(row.key, 0) + row.entry.size
    return [MediaKey(key, ",".join(kinds[key]), count[key], *steps[key], size[key])
            for key in kinds]


def print_media(console: Console, view: RunView, keys: list[MediaKey]) -> None:
    console.print(Text.assemble(("run ", "bold"), (view.name, "bold"), f"  {view.id}"))
    if not keys:
        console.print(Text("(no media)", style="dim"))
        return
    table = Table(box=None, padding=(0, 2), header_style="bold")
    for title in ("key", "type", "items", "steps", "bytes"):
        table.add_column(title, justify="right" if title in ("items", "bytes") else "left")
    for k in keys:
        steps = str(k.first_step) if k.first_step == k.last_step \
            else f"{k.first_step}..{k.last_step}"
        table.add_row(Text(k.key), k.type, f"{k.count:,}", steps, format_size(k.bytes))
    console.print(table)


def _noted(spec: str, noted: Mapping[str, str]) -> str:
    """``mnist:v3``, ``mnist:v3 (removed)``, or for a record a pull replaced (renumbered)
    ``model:v6 (recorded as model:v5, renumbered by a pull)``."""
    note = noted.get(spec)
    if note and note.startswith("now "):
        return f"{note[4:]} (recorded as {spec}, renumbered by a pull)"
    return f"{spec} ({note})" if note else spec


def _section(console: Console, title: str, fields: Iterable[Field]) -> None:
    console.print()
    console.print(Text(title, style="bold underline"))
    rows = list(fields)
    console.print(_grid(rows) if rows else Text("(empty)", style="dim"))


def _grid(fields: Iterable[Field]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="cyan", no_wrap=True)
    grid.add_column()
    for label, value in fields:
        grid.add_row(label, value if isinstance(value, Text) else Text(format_value(value)))
    return grid


def _metadata_fields(info: RunInfo) -> list[Field]:
    fields: list[Field] = [
        ("state", state_text(str(info.state))), ("project", info.project),
        ("group", info.group), ("job type", info.job_type),
        ("tags", ", ".join(info.tags) or None), ("notes", info.notes),
        ("created", local_time(info.created_at, seconds=True)),
        ("ended", local_time(info.ended_at, seconds=True) if info.ended_at else None),
        ("duration", format_duration(info.duration)), ("exit code", info.exit_code),
        ("steps", info.steps), ("host", info.host), ("user", info.user),
        ("os", info.os), ("python", info.python), ("command", _command(info)),
        ("cwd", info.cwd), ("gittrack", info.gittrack_version),
        ("resumed", info.resumed),
    ]
    return [(label, value) for label, value in fields if value is not None and value != ""]


def _code_fields(code: Mapping[str, Any]) -> list[Field]:
    dirty = code.get("dirty")
    fields: list[Field] = [
        ("commit", code.get("commit")), ("branch", code.get("branch")),
        ("remote", code.get("remote")),
        ("dirty", None if dirty is None else ("yes (uncommitted changes)" if dirty else "no")),
        ("saved", "yes (gittrack show RUN --code)" if code.get("saved") else None),
    ]
    return [(label, value) for label, value in fields if value is not None]


def _show_code(view: RunView, as_json: bool) -> None:
    """``show --code``: the saved files, each with its size (``--json``: and the entry point)."""
    code = view.code()
    files = [] if code is None else [{"name": n, "size": len(d)} for n, d in sorted(
        code.files.items())]
    if as_json:
        click.echo(dumps({"saved": code is not None, "files": files,
                          "entrypoint": None if code is None else code.entrypoint}))
    elif code is None:
        click.echo(f"run {view.name} ({view.id}) saved no code (save_code was off)")
    else:
        for item in files:
            click.echo(f"{item['size']:>12,}  {item['name']}")


def _command(info: RunInfo) -> str | None:
    if not info.program:
        return None
    return shlex.join([info.program, *info.args])
