"""Version chains: numbering, content dedup, type checks, concurrent writers, plain-git reads."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pygit2
import pytest

from gittrack.artifacts import versions
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import Draft, commit_version
from gittrack.errors import FormatError, NotFoundError, UsageError


def draft(name: str = "data", kind: str = "dataset", producer: str | None = "run1") -> Draft:
    return Draft(name=name, type=kind, description=None, metadata={"k": 1}, producer=producer)


def rows(*contents: str) -> list[ManifestEntry]:
    return [ManifestEntry(f"f{i}", c * 64, 10, c * 64) for i, c in enumerate(contents)]


def test_versions_count_from_zero_and_only_when_content_changes(
    git_repo: pygit2.Repository,
) -> None:
    v0, created0 = commit_version(git_repo, draft(), rows("a"))
    same, created = commit_version(git_repo, draft(producer="run2"), rows("a"))
    v1, created1 = commit_version(git_repo, draft(), rows("a", "b"))
    assert (v0.version, created0, same.version, created, v1.version, created1) == (
        0, True, 0, False, 1, True)
    assert same.producer == "run1"  # the version that exists, as it was logged
    assert versions.history(git_repo, "data") == [v1.commit, v0.commit]
    assert versions.version_commit(git_repo, "data", 0) == v0.commit
    assert versions.read_info(git_repo, v1.commit) == v1
    assert versions.read_entries(git_repo, v1.commit) == rows("a", "b")


def test_returning_to_old_content_is_a_new_version(git_repo: pygit2.Repository) -> None:
    commit_version(git_repo, draft(), rows("a"))
    commit_version(git_repo, draft(), rows("b"))
    back, created = commit_version(git_repo, draft(), rows("a"))
    assert (back.version, created) == (2, True)  # latest must stay the newest content


def test_blob_names_do_not_make_a_new_version(git_repo: pygit2.Repository) -> None:
    first, _ = commit_version(git_repo, draft(), [ManifestEntry("f", "a" * 64, 1, "1" * 64)])
    again, created = commit_version(git_repo, draft(),
                                    [ManifestEntry("f", "a" * 64, 1, "2" * 64)])
    assert again == first and not created


def test_a_type_change_is_refused(git_repo: pygit2.Repository) -> None:
    commit_version(git_repo, draft(), rows("a"))
    with pytest.raises(UsageError, match=r"has type 'dataset'"):
        commit_version(git_repo, draft(kind="model"), rows("b"))


def test_unknown_versions(git_repo: pygit2.Repository) -> None:
    with pytest.raises(NotFoundError, match=r"no artifact named 'data'"):
        versions.version_commit(git_repo, "data", 0)
    commit_version(git_repo, draft(), rows("a"))
    with pytest.raises(NotFoundError, match=r"no v3 \(its latest version is v0\)"):
        versions.version_commit(git_repo, "data", 3)


def test_concurrent_writers_never_lose_a_version(git_repo: pygit2.Repository) -> None:
    path = git_repo.path
    errors: list[BaseException] = []

    def writer(letter: str) -> None:
        try:
            commit_version(pygit2.Repository(path), draft(), rows(letter))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(c,)) for c in "abcdef"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = versions.history(git_repo, "data")
    assert [versions.read_info(git_repo, c).version for c in chain] == [5, 4, 3, 2, 1, 0]


def test_readable_with_plain_git(git_repo: pygit2.Repository, repo: Path) -> None:
    commit_version(git_repo, draft(), rows("a"))
    text = subprocess.run(["git", "show", "refs/gittrack/artifacts/data:artifact.yaml"],
                          cwd=repo, capture_output=True, text=True, check=True).stdout
    assert "format: 1" in text and "version: 0" in text and "producer: run1" in text
    log = subprocess.run(["git", "log", "--format=%s", "refs/gittrack/artifacts/data"],
                         cwd=repo, capture_output=True, text=True, check=True).stdout
    assert log.strip() == "gittrack: artifact data:v0 (run run1)"


def test_a_future_format_is_refused(git_repo: pygit2.Repository) -> None:
    from gittrack.git import objects

    tree = objects.write_tree(git_repo, None, {"artifact.yaml": b"format: 9\nname: x\n"})
    commit = objects.commit(git_repo, tree, [], "future")
    with pytest.raises(FormatError, match=r"upgrade gittrack"):
        versions.read_info(git_repo, commit)
