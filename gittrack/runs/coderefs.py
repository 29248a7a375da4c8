"""Runs tied to their code: a ref per code commit (``refs/gittrack/code/<sha>``).

A run records the commit its code was at (``run.yaml`` ``code.commit``). That commit is the
user's, reachable from a branch until a rebase, an amend or a squash leaves it behind and a
``git gc`` (here or on the server) removes it: ``show`` and ``diff`` then say ``unknown``. So
the run keeps it reachable itself: starting a run writes ``refs/gittrack/code/<sha>`` pointing
at its code commit (``namespace.code_ref``). The ref is under ``refs/gittrack/``, so it goes
wherever the runs go (``gittrack push``, the pre-push hook, ``remote setup --push``) and comes
back with ``pull``; ``gittrack gc`` deletes the ones no run needs any more (``plan``) and adds
the ones missing for runs made before (or pulled without theirs).

One ref per commit, not per run: a hundred runs on one commit keep it with one ref. The ref
points at the commit itself, so ``git log refs/gittrack/code/<sha>`` is the code's history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from gittrack.errors import ConflictError, GittrackError
from gittrack.git import history, namespace, refs
from gittrack.git.repo import Repository
from gittrack.runs import store
from gittrack.types import CommitId, RefName, RunId


def code_commit_of(metadata: Mapping[str, object]) -> str | None:
    """The code commit ``run.yaml`` records (``code.commit``), when it is a full id."""
    code = metadata.get("code")
    commit = code.get("commit") if isinstance(code, dict) else None
    if isinstance(commit, str) and namespace.code_commit(namespace.CODE + commit) is not None:
        return commit
    return None


def keep(repo: Repository, commit: str | None) -> RefName | None:
    """Point the code ref of ``commit`` at it (nothing when it exists already, or when the
    commit is not here: a run made outside a repository's history)."""
    if commit is None or not history.is_commit(repo, commit):
        return None
    name = namespace.code_ref(commit)
    if refs.get_ref(repo, name) == commit:
        return name
    try:
        refs.update_ref(repo, name, CommitId(commit), None)
    except ConflictError:
        return name if refs.get_ref(repo, name) == commit else None  # another run made it
    return name


def local(repo: Repository) -> dict[RefName, CommitId]:
    """The code refs here."""
    return refs.list_refs(repo, namespace.CODE)


def code_commits(repo: Repository,
                 heads: Mapping[RunId, CommitId] | None = None) -> dict[RunId, str | None]:
    """Each readable run's code commit (a full id, else ``None``), read from the run cache's
    ``code`` column (``runs.index``): no document decoded, no view made. Runs that cannot be
    read, and refs whose name is no run id, are left out. ``heads``: only these runs (at
    these heads). The cache is always asked for every run here: asked for some, it would
    forget the others (``index.cached_runs`` erases what it was not asked for)."""
    from gittrack.runs import index

    every, _ = store.runs_and_invalid(repo)
    runs = index.cached_runs(repo, every, _ignore)
    if heads is not None:
        runs = [run for run in runs if heads.get(run.run_id) == run.commit]
    commits = index.values(runs, "metadata.code.commit")
    return {run.run_id: value if isinstance(value, str)
            and namespace.code_commit(namespace.CODE + value) is not None else None
            for run, value in zip(runs, commits, strict=True)}


def _ignore(run_id: RunId, error: GittrackError) -> None:
    return None


def needed_by(repo: Repository, heads: Iterable[CommitId]) -> set[str]:
    """The code commits the runs at ``heads`` (run commits, here or in a remote's mirror)
    recorded; a head that cannot be read needs nothing known (its run is reported elsewhere)."""
    needed: set[str] = set()
    for head in heads:
        try:
            checkpoint = store.load_checkpoint(repo, head, with_resume=False)
        except GittrackError:
            continue
        commit = code_commit_of(checkpoint.info.document)
        if commit is not None:
            needed.add(commit)
    return needed


@dataclasses.dataclass(frozen=True, slots=True)
class CodeRefPlan:
    """What ``gc`` does with the code refs: refs to delete (no run needs them) and commits
    whose ref is missing (a run needs it and the commit is here)."""

    drop: dict[RefName, CommitId]
    add: tuple[str, ...]


def plan(repo: Repository, needed: set[str], present: Mapping[RefName, CommitId]) -> CodeRefPlan:
    """Drop the code refs of ``present`` whose commit is not ``needed`` (a ref whose name and
    value disagree, made by hand, goes too); add those ``needed`` and missing."""
    drop = {ref: sha for ref, sha in present.items()
            if namespace.code_commit(ref) not in needed or namespace.code_commit(ref) != sha}
    have = {namespace.code_commit(ref) for ref in present if ref not in drop}
    add = tuple(sorted(c for c in needed if c not in have and history.is_commit(repo, c)))
    return CodeRefPlan(drop, add)


def updates(code_plan: CodeRefPlan) -> list[refs.RefUpdate]:
    """The plan as one transaction's updates (each a compare-and-swap)."""
    out = [refs.RefUpdate(ref, None, sha) for ref, sha in sorted(code_plan.drop.items())]
    out += [refs.RefUpdate(namespace.code_ref(c), CommitId(c), None) for c in code_plan.add]
    return out


__all__ = ["CodeRefPlan", "code_commit_of", "code_commits", "keep", "local", "needed_by", "plan",
           "updates"]
