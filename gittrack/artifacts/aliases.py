"""Aliases (``best``, ``prod``) as refs ``refs/gittrack/aliases/<name>/<alias>``, and specs.

An alias is a small ref pointing at a version's commit: moving it is one compare-and-swap,
pushing it is one refspec, and no version commit changes when it moves. ``latest`` is never
stored: it always means the head of the chain. A spec names a version: ``name``,
``name:latest``, ``name:v3`` (the version whose ``artifact.yaml`` says 3) or ``name:<alias>``.
"""

from __future__ import annotations

import re
import shlex
import warnings
from typing import TypeGuard

from gittrack.artifacts.artifact import check_artifact_name
from gittrack.artifacts.versions import (
    chain,
    find_version,
    head,
    list_artifacts,
    manifest_id,
    read_info,
    same_content,
    version_commit,
)
from gittrack.errors import (
    ConflictError,
    FormatError,
    GittrackWarning,
    NotFoundError,
    UsageError,
    VersionRemovedError,
)
from gittrack.git import history, namespace, refs
from gittrack.git.namespace import is_valid_ref_component
from gittrack.git.repo import Repository
from gittrack.types import CommitId, RefName

LATEST = "latest"
_VERSION = re.compile(r"\Av(\d+)\Z")
_RETRIES = 20


def alias_ref(name: str, alias: str) -> RefName:
    return RefName(f"{namespace.ALIASES}{name}/{alias}")


def is_valid_alias(alias: object) -> TypeGuard[str]:
    """The one rule for aliases: what ``artifact alias`` accepts and what readers of alias refs
    enforce (``aliases/NAME/latest``, ``.../v5`` or ``.../nested/x`` forged by a remote are
    not aliases)."""
    return (isinstance(alias, str) and is_valid_ref_component(alias) and alias != LATEST
            and not _VERSION.match(alias))


def check_alias(alias: object) -> str:
    if is_valid_alias(alias):
        return alias
    if not isinstance(alias, str) or not is_valid_ref_component(alias):
        raise UsageError(
            f"alias {alias!r} is not valid: use letters, digits, '.', '_' and '-' "
            "(no '/', ':' or '..')"
        )
    if alias == LATEST or _VERSION.match(alias):
        raise UsageError(f"{alias!r} cannot be an alias: 'latest' and 'vN' name versions already")
    return alias


def aliases(repo: Repository, name: str) -> dict[str, CommitId]:
    """The user aliases of artifact ``name`` (``latest`` not included), by alias. A ref whose
    alias is not valid (``is_valid_alias``) is left out with a warning naming it."""
    return {alias: commit for alias, commit in alias_refs_of(repo, name).items()
            if _valid_or_warn(name, alias)}


def alias_refs_of(repo: Repository, name: str) -> dict[str, CommitId]:
    """Every ref under ``aliases/NAME/``, valid or not, by what follows the prefix: what
    deleting the artifact deletes."""
    prefix = f"{namespace.ALIASES}{name}/"
    found = refs.list_refs(repo, prefix)
    return {ref[len(prefix):]: commit for ref, commit in sorted(found.items())}


def all_aliases(repo: Repository) -> dict[str, dict[str, CommitId]]:
    """Every artifact's aliases, from one listing of the refs (invalid ones left out, as in
    ``aliases``)."""
    out: dict[str, dict[str, CommitId]] = {}
    for ref, commit in sorted(refs.list_refs(repo, namespace.ALIASES).items()):
        name, _, alias = ref[len(namespace.ALIASES):].partition("/")
        if _valid_or_warn(name, alias):
            out.setdefault(name, {})[alias] = commit
    return out


def _valid_or_warn(name: str, alias: str) -> bool:
    if is_valid_alias(alias):
        return True
    warnings.warn(f"skipping {alias_ref(name, alias)!r}: not a valid alias (forged or "
                  f"damaged): `gittrack artifact alias --delete {name} -- {shlex.quote(alias)}` "
                  "deletes it", GittrackWarning, stacklevel=3)
    return False


def aliases_of(repo: Repository, name: str, commit: CommitId,
               known: dict[str, CommitId] | None = None) -> list[str]:
    """The aliases naming ``commit``: ``latest`` first when it is the head."""
    found = [a for a, c in (aliases(repo, name) if known is None else known).items()
             if c == commit]
    return [LATEST, *found] if head(repo, name) == commit else found


def set_alias(repo: Repository, name: str, alias: str, commit: CommitId) -> None:
    """Point ``alias`` at ``commit``, wherever it pointed before (aliases move)."""
    check_alias(alias)
    ref = alias_ref(name, alias)
    for _ in range(_RETRIES):
        old = refs.get_ref(repo, ref)
        if old == commit:
            return
        try:
            refs.update_ref(repo, ref, commit, old)
            return
        except ConflictError:
            continue  # another writer moved it meanwhile: the last one to ask wins
    raise ConflictError(f"alias {name}:{alias} keeps moving under us; try again")


def remove_alias(repo: Repository, name: str, alias: str) -> None:
    """Delete ``alias``; one that is not valid only by its exact ref name, so that a user can
    clean up what a remote forged (``latest``, ``v5``, ``nested/x``)."""
    if not (alias in alias_refs_of(repo, name) and not is_valid_alias(alias)):
        check_alias(alias)
    ref = alias_ref(name, alias)
    old = refs.get_ref(repo, ref)
    if old is None:
        raise NotFoundError(f"artifact {name} has no alias {alias!r}")
    refs.delete_ref(repo, ref, old)


def parse_spec(spec: str) -> tuple[str, str]:
    """``"name:v3"`` → ``("name", "v3")``; no ``:`` means ``latest``."""
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError(f"an artifact is named NAME or NAME:VERSION, got {spec!r}")
    name, sep, selector = spec.strip().partition(":")
    check_artifact_name(name)
    if sep and not selector:
        raise UsageError(f"{spec!r} lacks a version after ':' (latest, vN or an alias)")
    return name, selector or LATEST


def resolve(repo: Repository, spec: str) -> CommitId:
    """The commit of the version ``spec`` names; ``NotFoundError`` saying what exists."""
    name, selector = parse_spec(spec)
    tip = head(repo, name)
    if tip is None:
        names = list(list_artifacts(repo))
        listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") or "none yet"
        raise NotFoundError(f"no artifact named {name!r} (artifacts: {listed})")
    if selector == LATEST:
        return tip
    number = _VERSION.match(selector)
    if number:
        return version_commit(repo, name, int(number.group(1)))
    known = aliases(repo, name)
    if selector in known:
        return _follow(repo, name, selector, known[selector], tip)
    existing = ", ".join([LATEST, *known])
    raise NotFoundError(f"artifact {name} has no alias {selector!r} (aliases: {existing})")


def _follow(repo: Repository, name: str, alias: str, commit: CommitId,
            tip: CommitId) -> CommitId:
    """The version an alias names. An alias off the chain was left by a rewrite (a version
    removed on a remote, its chain taken with ``pull --force``): it names the old copy of a
    version, so follow it to the version with its number and content, or say it was removed.
    Off the chain with other content (a diverged history), it names its own commit."""
    try:
        if history.reaches(repo, tip, commit):
            return commit
        number = read_info(repo, commit, name).version
    except FormatError as exc:  # a forged or broken alias from a remote
        raise FormatError(f"alias {name}:{alias} ({alias_ref(name, alias)}) names no version "
                          f"of {name}: {exc}") from None
    try:
        current = find_version(repo, name, tip, number)
    except VersionRemovedError:
        raise VersionRemovedError(
            f"alias {name}:{alias} names {name}:v{number}, which was removed: point it "
            f"elsewhere (`gittrack artifact alias {name}:vN {alias}`) or delete it "
            f"(`gittrack artifact alias {name} {alias} --delete`)") from None
    except NotFoundError:
        return commit
    return current if same_content(repo, current, commit) else commit


def resolve_recorded(repo: Repository, spec: str, commit: str | None,
                     content: str | None = None) -> tuple[CommitId, bool]:
    """The version a run's record names, and whether it is no longer the one its label says
    (``replaced``): ``spec`` (``name:vN``) as recorded, with the version's ``commit`` and
    ``content`` (its manifest's id) when the run recorded them (``runs.lineage``).

    The commit decides: the version at that commit, or the one a pull copied from it
    (renumbered: its ``replaces``), or else the one with the same content (a version
    collapsed into a teammate's identical one, or re-committed by a removal below it),
    the label's number first. A record without a commit (older runs) is its label.
    ``NotFoundError`` when no version of this clone is that one (not fetched yet).
    """
    if commit is None:
        return resolve(repo, spec), False
    name, selector = parse_spec(spec)
    number = _VERSION.match(selector)
    labelled = int(number.group(1)) if number else None
    tip = head(repo, name)
    if tip is None:
        raise NotFoundError(f"no artifact named {name!r}")
    removed: VersionRemovedError | None = None
    if labelled is not None:
        try:
            if find_version(repo, name, tip, labelled) == commit:
                return CommitId(commit), False
        except VersionRemovedError as exc:
            removed = exc
        except NotFoundError:
            pass
    twins: list[tuple[int, CommitId]] = []
    for found in chain(repo, tip):
        info = read_info(repo, found, name)
        if found == commit:
            return found, info.version != labelled
        if commit in info.replaces:
            return found, True
        if content is not None and manifest_id(repo, found) == content:
            twins.append((info.version, found))
    for version, found in sorted(twins, key=lambda t: t[0] != labelled):
        return found, version != labelled
    if removed is not None:
        raise removed
    raise NotFoundError(f"{spec} (commit {commit[:12]}) is not in this clone's {name} "
                        "(not fetched yet, or removed)")
