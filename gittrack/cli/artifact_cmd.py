"""`gittrack artifact ls|show|get|alias|rm|reencrypt`: versioned datasets and models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gittrack.artifacts import aliases as alias_refs
from gittrack.artifacts import versions
from gittrack.artifacts.view import ArtifactVersion
from gittrack.cli import artifact_show
from gittrack.cli.columns import Cell, Column, layout
from gittrack.cli.console import make_console, print_block
from gittrack.cli.context import CliContext
from gittrack.cli.fields import local_time
from gittrack.cli.render import dumps, format_size, printable
from gittrack.errors import GittrackError, UsageError
from gittrack.git.repo import Repository
from gittrack.types import CommitId


@click.group("artifact")
def command() -> None:
    """Versioned datasets and models: list, show, download, alias."""


command.add_command(artifact_show.command)


@command.command("ls")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for machines.")
@click.pass_obj
def ls(obj: CliContext, name: str | None, as_json: bool) -> None:
    """List artifacts: name, latest version, type, aliases, files and size; with NAME, every
    version of it, newest first."""
    repo = obj.reader()
    if name is not None:
        _versions(repo, name, as_json)
        return
    every = alias_refs.all_aliases(repo)
    rows = [_summary(repo, info, every.get(name, {}))
            for name, info in versions.latest_versions(repo, warn_skipped).items()]
    if as_json:
        click.echo(dumps(rows))
    elif not rows:
        make_console().print("no artifacts yet: log one with run.log_artifact(...)")
    else:
        print_block(make_console(), layout(_COLUMNS, [_cells(row) for row in rows]))


_COLUMNS = [Column("name"), Column("latest"), Column("type"), Column("aliases"),
            Column("files", right=True), Column("size", right=True), Column("created")]
_VERSION_COLUMNS = [Column("version"), Column("aliases"), Column("files", right=True),
                    Column("size", right=True), Column("created"), Column("producer")]


def _versions(repo: Repository, name: str, as_json: bool) -> None:
    """``artifact ls NAME``: its versions, newest first, from their ``artifact.yaml`` only."""
    if ":" in name:
        raise UsageError(f"`artifact ls` takes an artifact's NAME, got {name!r}: "
                         "`gittrack artifact show NAME:VERSION` shows one version")
    ArtifactVersion.resolve(repo, name)  # a bad name, or NotFoundError naming what exists
    named: dict[CommitId, list[str]] = {}
    for alias, commit in alias_refs.aliases(repo, name).items():
        named.setdefault(commit, []).append(alias)
    found = [(info, ([alias_refs.LATEST] if i == 0 else []) + named.get(info.commit, []))
             for i, info in enumerate(versions.every_version(repo, name))]
    if as_json:
        click.echo(dumps([{"version": f"v{info.version}", "spec": info.spec, "aliases": shown,
                           "files": info.files, "size": info.size,
                           "created_at": info.created_at, "producer": info.producer,
                           "commit": info.commit} for info, shown in found]))
        return
    print_block(make_console(), layout(_VERSION_COLUMNS, [
        [(f"v{info.version}", "cyan"), (", ".join(shown) or "-", None if shown else "dim"),
         (str(info.files), None), (format_size(info.size), None),
         (local_time(info.created_at), None), (info.producer or "-", None)]
        for info, shown in found]))


def warn_skipped(ref: str, error: GittrackError) -> None:
    """An unreadable ref (forged or broken, from a remote): named, and the listing goes on."""
    click.echo(f"gittrack: warning: skipping {ref}: {error}", err=True)


def _summary(repo: Repository, info: versions.VersionInfo,
             aliases: dict[str, CommitId]) -> dict[str, Any]:
    numbers: dict[CommitId, int] = {info.commit: info.version}
    shown = {}
    for alias, commit in aliases.items():
        if commit not in numbers:
            try:
                numbers[commit] = versions.read_info(repo, commit, info.name).version
            except GittrackError as exc:
                warn_skipped(str(alias_refs.alias_ref(info.name, alias)), exc)
                continue
        shown[alias] = f"v{numbers[commit]}"
    return {"name": info.name, "latest": f"v{info.version}", "type": info.type,
            "aliases": shown, "files": info.files, "size": info.size,
            "created_at": info.created_at, "producer": info.producer, "commit": info.commit}


def _cells(row: dict[str, Any]) -> list[Cell]:
    aliases = ", ".join(f"{a}:{v}" for a, v in row["aliases"].items())
    return [(row["name"], "bold"), (row["latest"], "cyan"), (row["type"], None),
            (aliases or "-", None if aliases else "dim"), (str(row["files"]), None),
            (format_size(row["size"]), None), (local_time(row["created_at"]), None)]


@command.command("get")
@click.argument("spec", metavar="NAME[:VERSION]")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder to write the files to (default ./artifacts/NAME-vN).")
@click.pass_obj
def get(obj: CliContext, spec: str, files: tuple[str, ...], output: Path | None) -> None:
    """Download a version's files, verified (from the local cache when it has them); with
    FILE..., only those (paths as `artifact show` lists them)."""
    version = ArtifactVersion.resolve(obj.reader(), spec)
    if not files:
        root = version.download(output)
        count, size = len(version.files()), version.size
    else:  # each found in the part of the manifest that can hold it, not the whole manifest
        entries = [version.file(name) for name in dict.fromkeys(files)]  # all found first
        paths = [version.path(entry.path, output) for entry in entries]
        root = version.default_root() if output is None else output
        count, size = len(paths), sum(entry.size for entry in entries)
    click.echo(printable(f"{version.spec}: {count} file(s), {format_size(size)} in {root}"))


@command.command("alias")
@click.argument("spec", metavar="NAME:VERSION")
@click.argument("alias")
@click.option("--delete", is_flag=True, help="Remove ALIAS instead (SPEC: NAME or NAME:ALIAS).")
@click.pass_obj
def alias(obj: CliContext, spec: str, alias: str, delete: bool) -> None:
    """Point ALIAS (best, prod, ...) at a version; it moves from where it pointed before."""
    repo = obj.git()
    name, _ = alias_refs.parse_spec(spec)
    if delete:
        alias_refs.remove_alias(repo, name, alias)
        click.echo(f"removed {name}:{alias}")
        return
    version = ArtifactVersion.resolve(repo, spec)
    before = alias_refs.aliases(repo, name).get(alias_refs.check_alias(alias))
    alias_refs.set_alias(repo, name, alias, version.commit)
    click.echo(f"{name}:{alias} → {version.spec}{_moved(repo, name, before, version.commit)}")


def _moved(repo: Repository, name: str, before: CommitId | None, now: CommitId) -> str:
    if before is None or before == now:
        return ""
    try:
        return f" (moved from v{versions.read_info(repo, before, name).version})"
    except GittrackError:
        return f" (moved from {before[:12]}, not a version of {name})"


@command.command("reencrypt")
@click.pass_obj
def reencrypt(obj: CliContext) -> None:
    """Rewrite every stored blob under the newest project key and delete the old copies.

    `gittrack keys rm NAME --reencrypt` does this; run it again to finish an interrupted run.
    """
    from gittrack.artifacts.reencrypt import reencrypt_all
    from gittrack.storage.project import unlock

    repo = obj.git()
    click.echo(str(reencrypt_all(repo, None, unlock(repo))))


@command.command("rm")
@click.argument("spec", metavar="NAME[:VERSION]")
@click.option("--remote", metavar="REMOTE", default=None,
              help="Also delete it on this git remote (one push).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def rm(obj: CliContext, spec: str, remote: str | None, yes: bool) -> None:
    """Delete an artifact (NAME: every version and alias), or one version (NAME:v3,
    NAME:best, NAME:latest).

    A removed version's number is never reused; later versions keep theirs, aliases naming
    it are deleted. Blobs are reclaimed by `gittrack gc`.
    """
    from gittrack.cli.artifact_rm import remove

    remove(obj.git(), spec, remote, yes)
