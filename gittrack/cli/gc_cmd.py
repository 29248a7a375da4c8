"""`gittrack gc`: remove blobs nothing references from the store (dry-run first)."""

from __future__ import annotations

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps, format_size
from gittrack.git import transport
from gittrack.git.repo import Repository
from gittrack.sync.gc import DEFAULT_GRACE, collect, parse_duration


@click.command("gc")
@click.option("--remote", metavar="REMOTE", default=None,
              help="Mark from this remote's refs, fetched first (default: the branch's remote, "
                   "if the repository has one).")
@click.option("-n", "--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option("--grace", metavar="DURATION", default="1d", show_default=True,
              help="Keep unreferenced blobs younger than this (30m, 12h, 7d, 0).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report for machines.")
@click.pass_obj
def command(obj: CliContext, remote: str | None, dry_run: bool, grace: str,
            as_json: bool) -> None:
    """Remove stored blobs that no remaining run or artifact references."""
    repo = obj.reader() if dry_run else obj.git()  # a dry run folds no dead run's log
    seconds = parse_duration(grace) if grace else DEFAULT_GRACE
    remote = remote or _default_remote(repo)
    report = collect(repo, remote=remote, grace=seconds,
                     dry_run=dry_run)
    for done in report.finished:
        click.echo(f"finished the interrupted purge of run {done.run} ({done.name}): removed "
                   f"{len(done.blobs)} blob(s) from storage and {done.cache} local cache "
                   "entr(ies)", err=as_json)
    if as_json:
        click.echo(dumps({"dry_run": dry_run, "removed": [b.name for b in report.removed],
                          "size": report.size, "young": report.young, "temps": report.temps,
                          "cache": report.cache, "marked_from": list(report.roots),
                          "code_refs": {"removed": list(report.code.removed),
                                        "added": list(report.code.added),
                                        "removed_on_remote": list(report.code.remote_removed)}}))
        return
    verb = "would remove" if dry_run else "removed"
    for blob in report.removed if dry_run else ():
        click.echo(f"{blob.name}  {format_size(blob.size)}")
    click.echo(f"{verb} {len(report.removed)} blob(s), {format_size(report.size)}; "
               f"kept {report.marked} referenced and {report.young} younger than {grace}; "
               f"{verb} {report.temps} stale temporary file(s) and {report.cache} local cache "
               f"entr{'y' if report.cache == 1 else 'ies'} (marked from "
               f"{', '.join(report.roots)})")
    code = report.code
    if code.removed or code.added or code.remote_removed:
        there = f", {len(code.remote_removed)} on {remote}" if code.remote_removed else ""
        click.echo(f"code refs: {verb} {len(code.removed)} no run needs here{there}; "
                   f"{'would add' if dry_run else 'added'} {len(code.added)} missing")


def _default_remote(repo: Repository) -> str | None:
    return transport.default_remote(repo) if transport.remotes(repo) else None
