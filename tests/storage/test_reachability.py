"""The registry of kinds of ref that name blobs: each asked once, and none registered is an
error rather than "nothing is needed" (gc would collect every blob)."""

from __future__ import annotations

from collections.abc import Iterable

import pygit2
import pytest

from gittrack.artifacts.reachability import ARTIFACT_VERSIONS
from gittrack.errors import GittrackError
from gittrack.git.repo import Repository
from gittrack.runs.reachability import RUN_FILES
from gittrack.storage import reachability
from gittrack.storage.entry import ManifestEntry
from gittrack.types import CommitId


class Everything:
    """Names one blob per commit: its id, padded."""

    def owns(self, ref: str) -> bool:
        return ref == "refs/gittrack/test"

    def reader(self, repo: Repository, *, marks_only: bool) -> reachability.Reader:
        def read(commit: CommitId) -> Iterable[ManifestEntry]:
            return [ManifestEntry("f", commit + "0" * 24, 1, commit + "0" * 24)]

        return read


def test_every_registered_kind_is_asked_once(git_repo: pygit2.Repository) -> None:
    head = str(git_repo.head.target)
    kind = Everything()
    reachability.register(kind)
    reachability.register(kind)
    try:
        assert reachability.names_blobs("refs/gittrack/test")
        assert reachability.names_blobs("refs/gittrack/artifacts/a")
        assert reachability.names_blobs("refs/gittrack/runs/x")  # media, console, code
        assert not reachability.names_blobs("refs/gittrack/deleted/x")
        assert [e.blob for e in reachability.stored_files(git_repo, [head])] == [
            head + "0" * 24]
        assert list(reachability.stored_files(git_repo, [head], [head])) == []
    finally:
        reachability.unregister(kind)
    assert not reachability.names_blobs("refs/gittrack/test")


def test_no_kind_registered_is_refused(git_repo: pygit2.Repository) -> None:
    for kind in (ARTIFACT_VERSIONS, RUN_FILES):
        reachability.unregister(kind)
    try:
        with pytest.raises(GittrackError, match="no kind of ref"):
            reachability.needed_blobs(git_repo, [str(git_repo.head.target)])
    finally:
        for kind in (ARTIFACT_VERSIONS, RUN_FILES):
            reachability.register(kind)


def test_tips_by_ref_are_read_only_by_the_kind_owning_the_ref(
    git_repo: pygit2.Repository,
) -> None:
    """Given ref → commit, a commit is read only by the kind that owns the ref that reaches
    it (a push of many runs does not open each checkpoint as an artifact version); given
    commits alone, by every kind."""
    head = str(git_repo.head.target)
    kind = Everything()
    reachability.register(kind)
    try:
        mine = [e.blob for e in reachability.stored_files(git_repo, {"refs/gittrack/test": head})]
        assert mine == [head + "0" * 24]
        assert list(reachability.stored_files(git_repo, {"refs/gittrack/runs/r": head})) == []
        assert list(reachability.stored_files(git_repo, {"refs/gittrack/test": head},
                                              [head])) == []
        assert list(reachability.needed_entries(
            git_repo, {"refs/gittrack/runs/r": head, "refs/gittrack/test": head})) == [
            head + "0" * 24]
    finally:
        reachability.unregister(kind)
