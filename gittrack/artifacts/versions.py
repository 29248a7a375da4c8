"""Artifact versions: a chain of commits on ``refs/gittrack/artifacts/<name>``.

Each commit's tree holds ``artifact.yaml`` and ``manifest.parquet``; its parent is the
previous version. Version N is the depth in the chain (v0 is the root), and is also written in
``artifact.yaml`` so that reading one version never walks the chain. A new version is
committed only when the content (paths, digests, references) differs from the head's; the
ref moves by compare-and-swap, so two runs logging at once never lose a version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pygit2

from gittrack.artifacts.manifest import ManifestEntry, content_key, read_manifest, write_manifest
from gittrack.errors import ConflictError, FormatError, NotFoundError, RepositoryError, UsageError
from gittrack.formats import yamlio
from gittrack.git import objects, refs
from gittrack.types import CommitId, RefName

FORMAT = 1
ARTIFACTS_PREFIX = "refs/gittrack/artifacts/"
ARTIFACT_YAML = "artifact.yaml"
MANIFEST = "manifest.parquet"
_RETRIES = 20


@dataclasses.dataclass(frozen=True, slots=True)
class Draft:
    """What a new version says about itself, before it has a number."""

    name: str
    type: str
    description: str | None
    metadata: dict[str, Any]
    producer: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class VersionInfo:
    """``artifact.yaml`` of one version, with the commit it lives in."""

    commit: CommitId
    name: str
    type: str
    version: int
    description: str | None
    metadata: dict[str, Any]
    producer: str | None
    created_at: str
    files: int
    size: int

    @property
    def spec(self) -> str:
        return f"{self.name}:v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """``artifact.yaml``, in its key order."""
        return {"format": FORMAT, "name": self.name, "type": self.type, "version": self.version,
                "description": self.description, "metadata": self.metadata,
                "producer": self.producer, "created_at": self.created_at, "files": self.files,
                "size": self.size}


def artifact_ref(name: str) -> RefName:
    return RefName(ARTIFACTS_PREFIX + name)


def list_artifacts(repo: pygit2.Repository) -> dict[str, CommitId]:
    """Every artifact's name and head commit, by name."""
    found = refs.list_refs(repo, ARTIFACTS_PREFIX)
    return {name[len(ARTIFACTS_PREFIX):]: commit for name, commit in sorted(found.items())}


def head(repo: pygit2.Repository, name: str) -> CommitId | None:
    return refs.get_ref(repo, artifact_ref(name))


def read_info(repo: pygit2.Repository, commit: CommitId) -> VersionInfo:
    tree = _tree(repo, commit)
    raw = objects.read_file(repo, tree, ARTIFACT_YAML)
    what = f"{ARTIFACT_YAML} of commit {commit[:12]}"
    doc = yamlio.load(raw, what=what) if raw is not None else None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise FormatError(f"commit {commit[:12]} has no readable {ARTIFACT_YAML}")
    if not isinstance(doc.get("format"), int) or doc["format"] > FORMAT:
        raise FormatError(f"artifact {doc['name']} uses format {doc.get('format')!r}; this "
                          f"gittrack reads format {FORMAT}: upgrade gittrack")
    try:
        return VersionInfo(
            commit=commit, name=doc["name"], type=str(doc["type"]), version=int(doc["version"]),
            description=doc.get("description"), metadata=dict(doc.get("metadata") or {}),
            producer=doc.get("producer"), created_at=str(doc.get("created_at")),
            files=int(doc.get("files") or 0), size=int(doc.get("size") or 0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{what} lacks or garbles {exc}") from None


def read_entries(repo: pygit2.Repository, commit: CommitId) -> list[ManifestEntry]:
    raw = objects.read_file(repo, _tree(repo, commit), MANIFEST)
    if raw is None:
        raise FormatError(f"commit {commit[:12]} has no {MANIFEST}")
    return read_manifest(raw, what=f"{MANIFEST} of commit {commit[:12]}")


def _tree(repo: pygit2.Repository, commit: CommitId) -> pygit2.Tree:
    try:
        return objects.commit_tree(repo, commit)
    except (KeyError, ValueError, AssertionError):
        raise FormatError(f"{commit[:12]} is not an artifact version commit") from None


def history(repo: pygit2.Repository, name: str) -> list[CommitId]:
    """Every version's commit, newest first."""
    commit = head(repo, name)
    found = []
    while commit is not None:
        found.append(commit)
        parents = repo[commit].parent_ids  # type: ignore[attr-defined]
        commit = CommitId(str(parents[0])) if parents else None
    return found


def version_commit(repo: pygit2.Repository, name: str, number: int) -> CommitId:
    """The commit of ``name:v<number>``: walk back from the head (head version - N steps)."""
    tip = head(repo, name)
    if tip is None:
        raise NotFoundError(f"no artifact named {name!r}")
    latest = read_info(repo, tip).version
    if not 0 <= number <= latest:
        raise NotFoundError(f"artifact {name} has versions v0 to v{latest}, not v{number}")
    commit: CommitId = tip
    for _ in range(latest - number):
        commit = CommitId(str(repo[commit].parent_ids[0]))  # type: ignore[attr-defined]
    return commit


def commit_version(
    repo: pygit2.Repository, draft: Draft, entries: Sequence[ManifestEntry]
) -> tuple[VersionInfo, bool]:
    """The version holding ``entries``: the head if it has the same content, else a new one.

    Returns ``(version, created)``. Retries when another writer moved the ref meanwhile.
    """
    for _ in range(_RETRIES):
        old = head(repo, draft.name)
        number = 0
        if old is not None:
            previous = read_info(repo, old)
            _check_type(previous, draft)
            if content_key(read_entries(repo, old)) == content_key(entries):
                return previous, False
            number = previous.version + 1
        info = VersionInfo(
            commit=CommitId(""), name=draft.name, type=draft.type, version=number,
            description=draft.description, metadata=draft.metadata, producer=draft.producer,
            created_at=_now(), files=len(entries), size=sum(e.size for e in entries),
        )
        commit = _write(repo, info, entries, old)
        try:
            refs.update_ref(repo, artifact_ref(draft.name), commit, old)
        except ConflictError:
            continue
        return dataclasses.replace(info, commit=commit), True
    raise ConflictError(f"artifact {draft.name} keeps moving under us; try again")


def _check_type(previous: VersionInfo, draft: Draft) -> None:
    if previous.type != draft.type:
        raise UsageError(
            f"artifact {draft.name} has type {previous.type!r}; a version of type "
            f"{draft.type!r} cannot join it (use another name)"
        )


def _write(repo: pygit2.Repository, info: VersionInfo, entries: Sequence[ManifestEntry],
           parent: CommitId | None) -> CommitId:
    files = {ARTIFACT_YAML: yamlio.dump(info.to_dict()), MANIFEST: write_manifest(entries)}
    by = f" (run {info.producer})" if info.producer else ""
    try:
        tree = objects.write_tree(repo, None, files)
        return objects.commit(repo, tree, [parent] if parent else [],
                              f"gittrack: artifact {info.spec}{by}")
    except (pygit2.GitError, OSError) as exc:
        raise RepositoryError(f"cannot write artifact {info.spec} into {repo.path}: {exc}") \
            from None


def _now() -> str:
    moment = dt.datetime.now(tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
