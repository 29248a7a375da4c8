"""`gittrack artifact rm NAME[:VERSION]`: a whole artifact, or one of its versions."""

from __future__ import annotations

import click

from gittrack.artifacts import aliases as alias_refs
from gittrack.artifacts import versions
from gittrack.cli.confirm import confirm
from gittrack.cli.rm_cmd import check_skipped, describe, tail
from gittrack.errors import FormatError
from gittrack.git.repo import Repository
from gittrack.sync.remove_version import VersionRemovalReport


def remove(repo: Repository, spec: str, remote: str | None, yes: bool) -> None:
    """What `gittrack artifact rm` does; prints its report."""
    exact = spec in versions.invalid_artifacts(repo)  # forged: deleted by its exact name only
    name, selector = (spec, alias_refs.LATEST) if exact else alias_refs.parse_spec(spec)
    where = f" here and on {remote}" if remote else ""
    if exact or ":" not in spec:
        from gittrack.sync.delete import delete_artifact

        confirm(f"delete artifact {name} ({_count(repo, name)} version(s)){where}?", yes=yes)
        report = delete_artifact(repo, name, remote=remote)
        click.echo(describe(report, f"artifact {name}"))
        check_skipped(report)
        return
    from gittrack.sync.remove_version import remove_version

    number = _number(repo, name, selector)
    confirm(f"remove {name}:v{number}{_about(repo, name, number)}{where}?", yes=yes)
    removal = remove_version(repo, name, number, remote=remote)
    click.echo("\n".join(lines(removal, remote)))
    check_skipped(removal.refs)


def _count(repo: Repository, name: str) -> str:
    """How many versions; ``?`` for a broken chain, which can still be deleted."""
    try:
        return str(len(versions.history(repo, name)))
    except FormatError:
        return "?"


def _number(repo: Repository, name: str, selector: str) -> int:
    """``vN`` as written (it may exist only on the remote); ``latest`` or an alias, here."""
    if selector.startswith("v") and selector[1:].isdigit():
        return int(selector[1:])
    return versions.read_info(repo, alias_refs.resolve(repo, f"{name}:{selector}"), name).version


def _about(repo: Repository, name: str, number: int) -> str:
    """`` (1 of 4 versions; aliases latest, best)`` when this clone has the version."""
    head = versions.head(repo, name)
    if head is None:
        return ""
    try:
        commit = versions.find_version(repo, name, head, number)
    except LookupError:
        return ""
    count = len(versions.history(repo, name))
    named = alias_refs.aliases_of(repo, name, commit)
    also = f"; aliases {', '.join(named)}" if named else ""
    return f" (1 of {count} version(s){also})"


def lines(report: VersionRemovalReport, remote: str | None) -> list[str]:
    """What `gittrack artifact rm NAME:vN` prints."""
    sides = [w for w, side in (("here", report.here), (f"on {remote}", report.there)) if side]
    out = [f"removed {report.spec} {' and '.join(sides)}"]
    if remote is not None and report.there is None:
        out.append(f"{remote} had no {report.spec}")
    name = report.spec.partition(":")[0]
    here = report.here
    if here is not None and here.new_head is None:
        out.append(f"it was the only version: artifact {name} is deleted (a new {name} "
                   "starts again at v0)")
    elif here is not None and report.latest is not None:
        later = sorted(n for n in here.left if n > here.number)
        if later:
            out.append("re-committed with their numbers and content: "
                       + ", ".join(f"v{n}" for n in later))
        out.append(f"latest is {name}:v{report.latest}; v{here.number} is never reused")
    out += [f"removed alias {name}:{alias} (it named {report.spec})" for alias in report.aliases]
    changed = len(report.refs.changed)
    out.append(f"changed {changed} ref(s) here; pruned {report.refs.pruned} object(s)")
    if report.refs.remote is not None:
        out.append(f"changed {len(report.refs.remote_changed)} ref(s) on {report.refs.remote}")
    return out + tail(report.refs)
