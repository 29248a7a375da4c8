"""`gittrack push [REMOTE] [RUN...]`: blobs to the store, then runs and artifacts to git."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps
from gittrack.cli.sync_render import count_refs, push_dict, push_lines
from gittrack.errors import (
    BlobNotFoundError,
    DivergedError,
    GittrackError,
    NotFoundError,
    StorageError,
    UsageError,
)
from gittrack.git import transport
from gittrack.git.repo import Repository
from gittrack.sync.compare import kind_and_name

if TYPE_CHECKING:
    from gittrack.sync.push import PushReport


@click.command("push")
@click.argument("remote", required=False)
@click.argument("runs", nargs=-1)
@click.option("--force", is_flag=True,
              help="Also replace refs that diverged on the remote (each one is named).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option("--no-verify", is_flag=True, hidden=True,
              help="Skip the local pre-push hook (used by gittrack's own hook).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def command(obj: CliContext, remote: str | None, runs: tuple[str, ...], force: bool,
            dry_run: bool, no_verify: bool, as_json: bool) -> None:
    """Share runs and artifacts: upload missing blobs, then push refs/gittrack/* in one
    atomic `git push` (default: the branch's remote, every run, artifact and alias).

    REMOTE is a remote's name, a URL or a path; RUN... (ids, prefixes or names) limits the
    push to those runs and the artifacts they used or logged.
    """
    from gittrack.sync.push import push

    repo = obj.reader() if dry_run else obj.git()  # a dry run writes nothing, a recovery included
    not_a_remote = None if remote is None else _not_a_remote(repo, remote)
    if remote is not None and not_a_remote is not None:
        runs, remote = (remote, *runs), None  # `gittrack push RUN...`: the default remote
    _refuse_not_enabled(repo, remote)
    try:
        report = push(repo, remote, runs, force=force, no_verify=no_verify, dry_run=dry_run)
    except NotFoundError as exc:
        if not_a_remote is None or repr(runs[0]) not in str(exc):
            raise
        # a mistyped remote reads as a run: say both, the remote first; a usage error, as
        # pull and fetch say for an unknown remote
        raise UsageError(f"{not_a_remote}; nor is {runs[0]!r} a run") from None
    if as_json:
        click.echo(dumps(push_dict(report)))
    else:
        for line in push_lines(report):
            click.echo(("(dry run) " if dry_run else "") + line)
    if report.held_back:
        raise held_back_error(report)
    if report.held:
        raise DivergedError(f"{len(report.held)} ref(s) not sent to {report.remote} (see above)")


def held_back_error(report: PushReport) -> StorageError:
    """The one-line error after a push that held refs back for their blobs (exit 8, as a
    store's error): ``BlobNotFoundError`` when a blob is lost, else ``StorageError``."""
    order = {"run": 0, "artifact": 1, "alias": 2}
    held = sorted(report.held_back, key=lambda h: (
        order.get(kind_and_name(h.ref).split(" ")[0], 3), h.ref))
    names = ", ".join(f"{kind_and_name(h.ref)} ({h.path})" for h in held[:3])
    more = f" and {len(held) - 3} more" if len(held) > 3 else ""
    kind = BlobNotFoundError if any(h.lost for h in held) else StorageError
    return kind(f"held back {count_refs(h.ref for h in held)} whose blobs are not in the "
                f"store {report.blobs.store}: {names}{more} (see above); the rest was pushed")


def _refuse_not_enabled(repo: Repository, remote: str | None) -> None:
    """Runs go only to remotes enabled for gittrack (private by default): a named remote that
    is not is refused, dry run included; a URL or path given here is chosen on purpose."""
    from gittrack.sync import remote_setup

    names = transport.remotes(repo)
    target = remote if remote is not None else (
        transport.default_remote(repo) if names else None)
    if target is not None and target in names and not remote_setup.is_enabled(repo, target):
        raise UsageError(remote_setup.not_enabled(target))


def _not_a_remote(repo: Repository, name: str) -> str | None:
    """Why ``name`` is not a remote, or None when it is one."""
    try:
        transport.check_remote(repo, name)
    except GittrackError as exc:
        return str(exc)
    return None
