"""`gittrack export`: runs as plain files anyone can read (CSV, Parquet, JSON lines)."""

from __future__ import annotations

from pathlib import Path

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps, printable
from gittrack.errors import GittrackError
from gittrack.runs.export import DEFAULT_DIR, EXPORT_FORMATS, ExportedRun, export_runs
from gittrack.runs.resolve import resolve_run
from gittrack.runs.view import warn_unreadable
from gittrack.types import RunId


@click.command("export")
@click.argument("runs", metavar="RUN...", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv",
              show_default=True, help="File format of history and histograms.")
@click.option("-o", "--output", "output", metavar="DIR", default=DEFAULT_DIR, show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (created if missing), relative to the current folder.")
@click.option("--no-media", "no_media", is_flag=True,
              help="Leave out media files and their index.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_obj
def command(ctx: CliContext, runs: tuple[str, ...], fmt: str, output: Path, no_media: bool,
            as_json: bool) -> None:
    """Export each RUN (id, unique id prefix or name) to DIR/<run-id>/.

    \b
    Each run folder holds:
      history.<ext>     every logged row, unsampled; a step without a key is empty/null
      histograms.<ext>  when the run logged histograms: key, _step, _timestamp, edges, counts
      config.json, summary.json, metadata.json
      media/<key>/<step>_<seq>_<item>.<format>  each media file the run logged (images...)
      media.<ext>       their index: key, step, type, item, path, caption, width, height,
                        length, format, meta, digest, size (not with --no-media)
    \b
    csv: a null is an empty field; NaN and infinities are nan, inf, -inf; histogram edges and
    counts are JSON arrays. jsonl: one JSON object per row, nulls kept. In JSON, NaN and
    infinities are the strings "NaN", "Infinity", "-Infinity". parquet keeps exact types.
    Existing files of the same name are replaced. Every RUN is resolved before anything is
    written: one that matches nothing fails the whole command. A run that cannot be read is
    reported, the others are exported, and the command fails at the end.
    """
    repo = ctx.reader()
    views = [resolve_run(repo, spec) for spec in runs]
    failed: list[GittrackError] = []

    def report(run_id: RunId, error: GittrackError) -> None:
        failed.append(error)
        warn_unreadable(run_id, error)

    several = len({view.id for view in views}) > 1
    exported = export_runs(views, output, fmt, report if several else None, media=not no_media)
    _print(exported, as_json)
    if failed:
        raise type(failed[0])(f"{len(failed)} of {len(failed) + len(exported)} runs could not "
                              "be exported (see the warnings above)")


def _print(exported: list[ExportedRun], as_json: bool) -> None:
    if as_json:
        click.echo(dumps([e.to_dict() for e in exported]))
        return
    for item in exported:
        click.echo(printable(_describe(item)))  # the run's name may come from a remote


def _describe(item: ExportedRun) -> str:
    head = f"exported {item.run_id} ({item.name}): {_count(item.rows, 'row')}"
    if item.histogram_rows:
        head += f", {_count(item.histogram_rows, 'histogram row')}"
    if item.media_files:
        head += f", {_count(item.media_files, 'media file')}"
    media = [f"  {item.directory / 'media'}/ ({_count(item.media_files, 'file')})"] \
        if item.media_files else []
    return "\n".join([head, *(f"  {path}" for path in item.files), *media])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
