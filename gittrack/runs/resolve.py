"""Naming a run on the command line or in ``Api.run``: an id, a unique id prefix, or a name."""

from __future__ import annotations

from gittrack.errors import AmbiguousNameError, FormatError, NotFoundError
from gittrack.git import namespace
from gittrack.git.repo import Repository
from gittrack.runs import ids, store
from gittrack.runs.view import RunView, checked, named, warn_unreadable
from gittrack.types import RunId


def resolve_run(repo: Repository, spec: str, *, invalid_ok: bool = False) -> RunView:
    """The one run ``spec`` names; ``NotFoundError`` or ``AmbiguousNameError`` otherwise.

    A ref under ``runs/`` whose name is not a valid run id is named only by that exact name,
    and only with ``invalid_ok`` (commands that delete it, without reading it); otherwise a
    ``FormatError`` says how to delete it."""
    runs, invalid = store.runs_and_invalid(repo)
    for exact in dict.fromkeys((spec, spec.removeprefix(namespace.RUNS))):
        if exact in invalid:
            if not invalid_ok:
                raise FormatError(ids.invalid_run_message(exact))
            return RunView(repo, RunId(exact), invalid[RunId(exact)])
    spec = spec.strip()
    spec = spec.removeprefix(namespace.RUNS)
    if spec in runs:
        return RunView(repo, RunId(spec), runs[RunId(spec)])
    lowered = spec.lower()
    prefixed = [rid for rid in runs if rid.lower().startswith(lowered)] if spec else []
    if len(prefixed) == 1:
        return RunView(repo, prefixed[0], runs[prefixed[0]])
    if len(prefixed) > 1:
        raise AmbiguousNameError(
            f"{spec!r} is a prefix of {len(prefixed)} runs ({', '.join(sorted(prefixed)[:5])}"
            f"{', ...' if len(prefixed) > 5 else ''}); give more characters"
        )
    # by name: the cache's name column, not every run (``view.named``)
    named_so = checked(named(repo, runs, spec), warn_unreadable)
    if len(named_so) == 1:
        return named_so[0]
    if len(named_so) > 1:
        named_so.sort(key=lambda v: (v.created_at, v.id), reverse=True)
        raise AmbiguousNameError(
            f"{len(named_so)} runs are named {spec!r} "
            f"({', '.join(v.id for v in named_so[:5])}); "
            "use an id"
        )
    raise NotFoundError(f"no run matches {spec!r} (by id, id prefix or name)")
