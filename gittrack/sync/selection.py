"""Which local refs a push sends: everything under ``refs/gittrack/``, or some runs with the
artifacts they used or logged (and those artifacts' aliases), so lineage survives the trip,
and the ref that keeps each one's code commit (``runs.coderefs``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gittrack.errors import GittrackError
from gittrack.git import namespace, refs
from gittrack.git.repo import Repository
from gittrack.types import CommitId


def local_refs(repo: Repository) -> dict[str, CommitId]:
    return {str(ref): sha for ref, sha in refs.list_refs(repo, namespace.ROOT).items()}


def select(repo: Repository, run_specs: Sequence[str],
           every: Mapping[str, CommitId] | None = None) -> dict[str, CommitId]:
    """The refs to push: all of them, or the named runs and their artifacts. ``every``: the
    local refs, when the caller has listed them already."""
    every = dict(every) if every is not None else local_refs(repo)
    if not run_specs:
        return every
    # loaded only here: a push of everything (and a no-op one) does without them
    from gittrack.artifacts.aliases import parse_spec
    from gittrack.runs import coderefs, layout
    from gittrack.runs.lineage import ROLES, artifact_specs
    from gittrack.runs.resolve import resolve_run

    chosen: dict[str, CommitId] = {}
    artifacts: set[str] = set()
    for spec in run_specs:
        view = resolve_run(repo, spec)
        chosen[layout.run_ref(view.id)] = view.commit
        code = coderefs.code_commit_of(view.metadata)
        if code is not None and namespace.CODE + code in every:
            chosen[namespace.code_ref(code)] = every[namespace.CODE + code]
        for role in ROLES:
            for used in artifact_specs(view.metadata, role):
                try:
                    artifacts.add(parse_spec(used)[0])
                except GittrackError:
                    continue  # a garbled spec in run.yaml: nothing to send for it
    chosen.update({ref: sha for ref, sha in every.items() if _artifact_of(ref) in artifacts})
    return chosen


def _artifact_of(ref: str) -> str | None:
    """The artifact an artifact or alias ref belongs to."""
    if ref.startswith(namespace.ARTIFACTS):
        return ref[len(namespace.ARTIFACTS):]
    if ref.startswith(namespace.ALIASES):
        return ref[len(namespace.ALIASES):].rpartition("/")[0]
    return None
