"""What to do about an artifact that diverged because versions were removed on one side
(``gittrack artifact rm NAME:vN`` rewrites the chain): computed when push or pull makes its
report, so the report carries it (text and ``--json`` alike)."""

from __future__ import annotations

from collections.abc import Iterable

from gittrack.errors import GittrackError
from gittrack.git import history, namespace
from gittrack.git.repo import Repository
from gittrack.sync.compare import RefState
from gittrack.types import CommitId


def rewrite_advice(repo: Repository, states: Iterable[RefState],
                   remote: str) -> tuple[str, ...]:
    """For each diverged artifact in ``states`` whose chains differ only by removed versions:
    which, and the ``artifact rm`` that follows on the other side."""
    lines: list[str] = []
    states = [s for s in states if s.ref.startswith(namespace.ARTIFACTS)]
    if not states:
        return ()
    from gittrack.artifacts.rewrite import compare_chains  # loaded only for artifacts

    for state in states:
        if not state.ref.startswith(namespace.ARTIFACTS) or not state.local or not state.remote \
                or not history.exists(repo, state.remote):
            continue
        name = state.ref[len(namespace.ARTIFACTS):]
        try:
            diff = compare_chains(repo, name, state.local, CommitId(state.remote))
        except GittrackError:  # a chain that is no artifact's (forged): no advice to give
            continue
        if diff is None:
            continue
        if diff.removed_there:
            rm = _rm(name, diff.removed_there, "")
            keep = f" (keeps {_numbers(diff.only_here)}, only here)" if diff.only_here else \
                " or `gittrack pull --force`"
            lines.append(f"  {name}: {_numbers(diff.removed_there)} removed on {remote}: "
                         f"{rm} removes it here too{keep}")
        if diff.removed_here:
            rm = _rm(name, diff.removed_here, f" --remote {remote}")
            lines.append(f"  {name}: {_numbers(diff.removed_here)} removed here, still on "
                         f"{remote}: {rm} removes it there too")
    return tuple(lines)


def _numbers(numbers: Iterable[int]) -> str:
    return ", ".join(f"v{n}" for n in numbers)


def _rm(name: str, numbers: tuple[int, ...], extra: str) -> str:
    return " then ".join(f"`gittrack artifact rm {name}:v{n}{extra}`" for n in numbers)
