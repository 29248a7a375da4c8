"""`gittrack artifact show NAME[:VERSION]`: a version's files, lineage and aliases."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.view import ArtifactVersion
from gittrack.cli.columns import Cell, Column, layout
from gittrack.cli.console import make_console, print_block, state_text
from gittrack.cli.context import CliContext
from gittrack.cli.fields import local_time
from gittrack.cli.render import dumps, format_size
from gittrack.errors import VersionRemovedError
from gittrack.formats.display import flatten, format_value
from gittrack.git.repo import Repository
from gittrack.runs.artifact_runs import consumers, producer, recorded_by
from gittrack.runs.lineage import ROLES
from gittrack.runs.view import RunView

_FILE_COLUMNS = [Column("path"), Column("size", right=True), Column("digest")]
_RUN_COLUMNS = [Column("run"), Column("name"), Column("state"), Column("created")]


FILES_SHOWN = 1000
"""Files `show` lists by default: a version of 1,000,000 files is shown in well under a
second (the rows after these are not decoded), and a screenful is what a person reads."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Files:
    """The files a listing shows, and how many the version has."""

    count: int
    rows: list[ManifestEntry]

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@click.command("show")
@click.argument("spec", metavar="NAME[:VERSION]")
@click.option("--json", "as_json", is_flag=True, help="Print the version as JSON for machines.")
@click.option("-n", "--files", "shown", type=click.IntRange(min=0), default=FILES_SHOWN,
              show_default=True, metavar="N", help="List the first N files (by path).")
@click.option("--all", "show_all", is_flag=True, help="List every file.")
@click.pass_obj
def command(obj: CliContext, spec: str, as_json: bool, shown: int, show_all: bool) -> None:
    """Show a version (default: latest): files with sizes and digests, the run that produced
    it, the runs that used it, and its aliases. A version of many files lists the first N
    (`--files N`, `--all`): the rest of its manifest is not read."""
    repo = obj.reader()
    try:
        version = ArtifactVersion.resolve(repo, spec)
    except VersionRemovedError as exc:
        raise VersionRemovedError(f"{exc}{_records(repo, spec)}") from None
    made_by, used_by = producer(repo, version), consumers(repo, version)
    listed = _Files(version.file_count(),
                    version.files() if show_all else version.first_files(shown))
    if as_json:
        click.echo(dumps(_record(version, listed, made_by, used_by)))
    else:
        _print(make_console(), version, listed, made_by, used_by)


def _records(repo: Repository, spec: str) -> str:
    """``; runs that recorded it: <id> (<name>, used), ...`` for a removed ``name:vN``."""
    name, _, selector = spec.strip().partition(":")
    found = [f"{view.id} ({view.name}, {role})" for role in ROLES
             for view in recorded_by(repo, f"{name}:{selector}", role)]
    return f"; runs that recorded it keep the record: {', '.join(found)}" if found else ""


def _record(version: ArtifactVersion, listed: _Files, made_by: RunView | None,
            used_by: list[RunView]) -> dict[str, Any]:
    return {
        **version.to_dict(), "spec": version.spec,
        "files": [entry.to_dict() for entry in listed.rows], "file_count": listed.count,
        "producer_run": _run_record(made_by) if made_by else None,
        "consumers": [_run_record(view) for view in used_by],
    }


def _run_record(view: RunView) -> dict[str, Any]:
    return {"id": view.id, "name": view.name, "state": view.state,
            "created_at": view.created_at}


def _print(console: Console, version: ArtifactVersion, listed: _Files,
           made_by: RunView | None, used_by: list[RunView]) -> None:
    console.print(Text.assemble(("artifact ", "bold"), (version.spec, "bold"),
                                f"  {version.commit[:12]}"))
    produced = "-" if version.producer is None else (
        f"{version.producer} ({made_by.name})" if made_by else f"{version.producer} (not here)")
    fields = [("type", version.type), ("aliases", ", ".join(version.aliases) or "-"),
              ("created", local_time(version.created_at, seconds=True)),
              ("files", f"{listed.count} ({format_size(version.size)})"),
              ("produced by", produced), ("description", version.description)]
    if version.replaces:  # a pull put it on a teammate's versions, renumbered
        fields.append(("replaces", ", ".join(c[:12] for c in version.replaces)
                       + " (made here with another number; renumbered by a pull)"))
    fields += [(f"metadata.{k}", v) for k, v in flatten(version.metadata).items()]
    _grid(console, [(label, value) for label, value in fields if value is not None])
    _section(console, "files", _FILE_COLUMNS, [_file_cells(e) for e in listed.rows])
    if listed.more > 0:
        console.print(Text(f"... and {listed.more:,} more files (--files N, --all)",
                           style="dim"))
    _section(console, "used by", _RUN_COLUMNS, [_run_cells(view) for view in used_by])


def _grid(console: Console, fields: Iterable[tuple[str, Any]]) -> None:
    rows = list(fields)
    width = max(len(label) for label, _ in rows)
    text = Text()
    for i, (label, value) in enumerate(rows):
        text.append(("\n" if i else "") + f"{label:<{width}}", style="cyan")
        text.append(f"  {format_value(value)}")
    print_block(console, text)


def _section(console: Console, title: str, columns: list[Column],
             rows: list[list[Cell]]) -> None:
    console.print()
    console.print(Text(title, style="bold underline"))
    if rows:
        print_block(console, layout(columns, rows))
    else:
        console.print(Text("(none)", style="dim"))


def _file_cells(entry: ManifestEntry) -> list[Cell]:
    where = f" → {entry.ref}" if entry.ref else ""
    return [(entry.path + where, None), (format_size(entry.size), None),
            (entry.digest, "dim")]


def _run_cells(view: RunView) -> list[Cell]:
    state = state_text(view.state)
    return [(view.id, None), (view.name, "bold"), (state.plain, str(state.style) or None),
            (local_time(view.created_at), None)]
