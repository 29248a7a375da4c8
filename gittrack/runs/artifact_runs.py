"""Which runs used or logged an artifact version: the versions' side of lineage.

A version names the run that produced it (``artifact.yaml``); the runs that consumed it are
found by scanning ``run.yaml`` of every run (``lineage.artifact_specs``), which the checkpoint
cache (``runs.index``) makes a read of one local file. A removed version (``name:vN``) is
still found in the records of the runs that used or logged it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from gittrack.artifacts.view import ArtifactVersion
from gittrack.errors import GittrackError
from gittrack.git.repo import Repository
from gittrack.runs import store
from gittrack.runs.lineage import ROLES, artifact_specs, records, resolve_record
from gittrack.runs.view import RunView, all_runs
from gittrack.types import RunId


def consumers(repo: Repository, version: ArtifactVersion) -> list[RunView]:
    """Runs that used ``version``, newest first (runs that cannot be read are skipped)."""
    return recorded_for(repo, version, "used")


def recorded_for(repo: Repository, version: ArtifactVersion, role: str) -> list[RunView]:
    """Runs whose record under ``role`` names ``version``, newest first: by the commit beside
    the label when the run recorded one (so a version a pull renumbered keeps its runs, and
    another version given its old number gets none of them), else by the label."""
    found: dict[tuple[str, tuple[str, str | None]], str | None] = {}
    out = []
    for view in all_runs(repo, on_error=_skip):
        for spec, recorded in records(view.metadata, role):
            if recorded is None:
                if spec == version.spec:
                    out.append(view)
                    break
                continue
            if spec.partition(":")[0] != version.name:
                continue
            if (spec, recorded) not in found:
                try:
                    found[spec, recorded] = resolve_record(repo, spec, recorded)[0].commit
                except GittrackError:
                    found[spec, recorded] = None
            if found[spec, recorded] == version.commit:
                out.append(view)
                break
    return out


def recorded_by(repo: Repository, spec: str, role: str) -> list[RunView]:
    """Runs whose ``run.yaml`` lists ``spec`` (``name:vN``) under ``role``, newest first;
    the version need not exist any more."""
    return [view for view in all_runs(repo, on_error=_skip)
            if spec in artifact_specs(view.metadata, role)]


def producer(repo: Repository, version: ArtifactVersion) -> RunView | None:
    """The run that logged ``version``, if it is in this repository."""
    if version.producer is None:
        return None
    run_id = RunId(version.producer)
    head = store.head(repo, run_id)
    return None if head is None else RunView(repo, run_id, head)


def _skip(run_id: str, error: GittrackError) -> None:
    return None


MAX_DEPTH = 10
"""At most this many hops (run → version or version → run) from the start of a graph."""
MAX_NODES = 500
"""At most this many nodes (runs and versions) in a graph."""


@dataclass
class LineageGraph:
    """Runs and versions joined by the runs' records, within some hops of a start node.
    Node keys: ``"run:<id>"`` and ``"version:<name:vN>"``; edges follow the data:
    ``(version, run, "used")`` and ``(run, version, "logged")``. ``truncated``: a node has
    a neighbour left out (beyond the depth, or past the node limit)."""

    root: str
    runs: dict[str, RunView] = field(default_factory=dict)
    versions: dict[str, ArtifactVersion] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    truncated: bool = False


def run_key(run_id: str) -> str:
    return f"run:{run_id}"


def version_key(version: ArtifactVersion) -> str:
    return f"version:{version.spec}"


def lineage_graph(repo: Repository, start: ArtifactVersion | RunView, depth: int = 4,
                  max_nodes: int = MAX_NODES) -> LineageGraph:
    """The lineage graph around ``start`` (a version or a run): every node within ``depth``
    hops (clamped to 0 .. ``MAX_DEPTH``), at most ``max_nodes`` (1 .. ``MAX_NODES``), nearest
    first. One scan of every run's records (``lineage.records``, resolved as
    ``recorded_for`` resolves them), so a version a pull renumbered keeps its runs."""
    depth = max(0, min(MAX_DEPTH, depth))
    max_nodes = max(1, min(MAX_NODES, max_nodes))
    resolved: dict[tuple[str, tuple[str, str | None] | None], ArtifactVersion | None] = {}
    runs: dict[str, RunView] = {}
    versions: dict[str, ArtifactVersion] = {}
    adjacent: dict[str, list[tuple[str, str, str]]] = {}  # node -> its edges, in record order
    for view in all_runs(repo, on_error=_skip):
        node = run_key(view.id)
        runs[node] = view
        for role in ROLES:
            for spec, recorded in records(view.metadata, role):
                if (spec, recorded) not in resolved:
                    try:
                        resolved[spec, recorded] = resolve_record(repo, spec, recorded)[0]
                    except GittrackError:  # removed, deleted or not fetched: not drawn
                        resolved[spec, recorded] = None
                version = resolved[spec, recorded]
                if version is None:
                    continue
                other = version_key(version)
                versions.setdefault(other, version)
                edge = (other, node, role) if role == "used" else (node, other, role)
                if edge not in adjacent.get(node, []):
                    adjacent.setdefault(node, []).append(edge)
                    adjacent.setdefault(other, []).append(edge)
    root = run_key(start.id) if isinstance(start, RunView) else version_key(start)
    if isinstance(start, RunView):
        runs.setdefault(root, start)
    else:
        versions.setdefault(root, start)
    graph = LineageGraph(root)
    distance = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for edge in adjacent.get(node, []):
            other = edge[1] if edge[0] == node else edge[0]
            if other in distance:
                continue
            if distance[node] >= depth or len(distance) >= max_nodes:
                graph.truncated = True
                continue
            distance[other] = distance[node] + 1
            queue.append(other)
    for node in distance:
        if node in runs:
            graph.runs[node] = runs[node]
        else:
            graph.versions[node] = versions[node]
    seen = set()
    for node in distance:
        for edge in adjacent.get(node, []):
            if edge[0] in distance and edge[1] in distance and edge not in seen:
                seen.add(edge)
                graph.edges.append(edge)
    return graph
