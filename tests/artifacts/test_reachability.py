"""Marking: the blobs that artifact versions reachable from some commits name, as the
artifact referrer tells the storage's registry."""

from __future__ import annotations

import pygit2

import gittrack
from gittrack.artifacts import versions
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import Draft, commit_version
from gittrack.runs import store
from gittrack.storage.reachability import needed_blobs, needed_entries, stored_files


def draft(name: str) -> Draft:
    return Draft(name=name, type="dataset", description=None, metadata={}, producer=None)


def row(path: str, blob: str) -> ManifestEntry:
    return ManifestEntry(path, blob, 1, blob)


def test_a_head_reaches_every_older_version_of_its_chain(git_repo: pygit2.Repository) -> None:
    commit_version(git_repo, draft("a"), [row("x", "1" * 64)])
    v1, _ = commit_version(git_repo, draft("a"), [row("x", "2" * 64), row("y", "3" * 64)])
    other, _ = commit_version(git_repo, draft("b"), [row("z", "4" * 64)])
    assert needed_blobs(git_repo, [v1.commit]) == {"1" * 64, "2" * 64, "3" * 64}
    assert needed_blobs(git_repo, [other.commit]) == {"4" * 64}
    assert needed_blobs(git_repo, [v1.commit, other.commit, other.commit]) == {
        "1" * 64, "2" * 64, "3" * 64, "4" * 64}


def test_references_have_no_blob_and_unknown_commits_are_skipped(
    git_repo: pygit2.Repository,
) -> None:
    ref = ManifestEntry("r", "etag:abc", 5, None, "s3://bucket/key")
    v0, _ = commit_version(git_repo, draft("a"), [ref, row("x", "5" * 64)])
    assert needed_blobs(git_repo, [v0.commit, "0" * 40]) == {"5" * 64}
    assert [e.path for e in stored_files(git_repo, [v0.commit])] == ["r", "x"]
    assert needed_blobs(git_repo, []) == set()


def test_run_commits_reference_nothing_themselves(
    git_repo: pygit2.Repository, fast_settings: dict[str, object],
) -> None:
    with gittrack.init(settings=fast_settings) as run:
        run.log({"loss": 1.0})
        run_id = run.id
    head = store.head(git_repo, run_id)
    assert head is not None
    assert needed_blobs(git_repo, [head]) == set()
    assert versions.list_artifacts(git_repo) == {}


def test_stop_hides_what_the_remote_already_has(git_repo: pygit2.Repository) -> None:
    v0, _ = commit_version(git_repo, draft("a"), [row("x", "1" * 64)])
    v1, _ = commit_version(git_repo, draft("a"), [row("x", "2" * 64)])
    assert set(needed_entries(git_repo, [v1.commit], stop=[v0.commit])) == {"2" * 64}
    assert needed_entries(git_repo, [v1.commit], stop=["f" * 40])["1" * 64].path == "x"
