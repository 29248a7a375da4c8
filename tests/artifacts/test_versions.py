"""Version chains: numbering, content dedup, type checks, concurrent writers, plain-git reads."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from gittrack.artifacts import versions
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import Draft, commit_version
from gittrack.errors import FormatError, NotFoundError, UsageError
from tests.helpers.forge_artifacts import forge, good_doc
from tests.helpers.threads import in_threads


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
    assert versions.read_info(git_repo, v1.commit, "data") == v1
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
    assert in_threads(lambda c: commit_version(pygit2.Repository(path), draft(), rows(c)),
                      "abcdef") == []
    chain = versions.history(git_repo, "data")
    assert [versions.read_info(git_repo, c, "data").version for c in chain] == [5, 4, 3, 2, 1, 0]


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
        versions.read_info(git_repo, commit, "x")


# -- what a remote controls: artifact.yaml is checked against the ref it came from -----------

@pytest.mark.parametrize("name", ["/any/dir", "../../x", "other", "model/..", "", None, 5,
                                  "mo\ndel"])
def test_a_name_other_than_the_refs_is_refused(git_repo: pygit2.Repository, name: object) -> None:
    commit = forge(git_repo, "model", good_doc(name=name))
    with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/model"):
        versions.read_info(git_repo, commit, "model")
    with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/model"):
        versions.version_commit(git_repo, "model", 0)


@pytest.mark.parametrize("changes", [
    {"version": -1}, {"version": "0"}, {"version": True}, {"version": 1.5}, {"version": 2**40},
    {"version": None}, {"format": 0}, {"format": True}, {"format": "1"}, {"type": ""},
    {"type": "a\nb"}, {"type": 5}, {"type": "x" * 200}, {"type": None},
    {"files": -1}, {"files": "3"}, {"size": -3}, {"size": 2**64}, {"size": "big"},
    {"producer": "../run"}, {"producer": 5}, {"producer": "/etc"},
    {"description": 5}, {"metadata": [1, 2]}, {"created_at": 5},
    {"next_version": 0}, {"next_version": -2}, {"next_version": "9"},
    {"replaces": "a" * 40}, {"replaces": ["abc"]}, {"replaces": [5]}, {"replaces": ["A" * 40]},
    {"replaces": ["a" * 40] * 10_001},
])
def test_garbled_fields_are_refused(git_repo: pygit2.Repository,
                                    changes: dict[str, object]) -> None:
    commit = forge(git_repo, "model", good_doc(**changes))
    key = next(iter(changes))
    with pytest.raises(FormatError, match=rf"refs/gittrack/artifacts/model.*{key}"):
        versions.read_info(git_repo, commit, "model")


def test_what_gittrack_writes_is_accepted(git_repo: pygit2.Repository) -> None:
    commit = forge(git_repo, "model", good_doc(producer="01hq3b0c5x9k2m7n8p4r6s1t2v",
                                               description="d", metadata={"a": [1]},
                                               next_version=3, format=2))
    info = versions.read_info(git_repo, commit, "model")
    assert (info.name, info.version, info.next_version, info.format) == ("model", 0, 3, 2)
    assert info.replaces == () and "replaces" not in info.to_dict()


def test_replaces_is_read_and_written_back(git_repo: pygit2.Repository) -> None:
    """A renumbered version names the commits it was copied from (sha-1 or sha-256 ids)."""
    ids = ["a" * 40, "b" * 64]
    info = versions.read_info(git_repo, forge(git_repo, "model", good_doc(replaces=ids)), "model")
    assert info.replaces == tuple(ids) and info.to_dict()["replaces"] == ids


@pytest.mark.parametrize("doc", [b"", b"- a list\n", b"name: [unclosed\n", b"\xff\xfe",
                                 None])
def test_unreadable_artifact_yaml_names_the_ref(git_repo: pygit2.Repository,
                                                doc: bytes | None) -> None:
    commit = forge(git_repo, "model", doc)
    with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/model"):
        versions.read_info(git_repo, commit, "model")


def test_a_ref_to_a_non_commit_or_a_missing_parent_names_the_ref(
        git_repo: pygit2.Repository, repo: Path) -> None:
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], input="x", cwd=repo,
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["git", "update-ref", "refs/gittrack/artifacts/blob", blob], cwd=repo,
                   check=True)
    with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/blob"):
        versions.version_commit(git_repo, "blob", 0)
    # a chain whose older version comes from another artifact (name differs) is refused too
    other = forge(git_repo, "other", good_doc(name="other"))
    forge(git_repo, "model", good_doc(version=1), parents=[other])
    with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/model"):
        versions.version_commit(git_repo, "model", 0)


def test_latest_versions_skips_bad_refs_and_reports_them(git_repo: pygit2.Repository) -> None:
    good, _ = commit_version(git_repo, draft(), rows("a"))
    forge(git_repo, "evil", good_doc(name="/tmp/x"))
    forge(git_repo, "broken", b"name: [")
    skipped: list[tuple[str, str]] = []
    found = versions.latest_versions(git_repo, lambda ref, exc: skipped.append((ref, str(exc))))
    assert list(found) == ["data"] and found["data"].commit == good.commit
    assert [ref for ref, _ in skipped] == ["refs/gittrack/artifacts/broken",
                                           "refs/gittrack/artifacts/evil"]
    with pytest.raises(FormatError):
        versions.latest_versions(git_repo)


_YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8)


@hsettings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(
    st.sampled_from(["format", "name", "type", "version", "next_version", "description",
                     "metadata", "producer", "created_at", "files", "size", "replaces",
                     "extra"]),
    _YAML_VALUES, max_size=4))
def test_any_artifact_yaml_is_read_or_refused_with_a_format_error(
        git_repo: pygit2.Repository, changes: dict[str, object]) -> None:
    """Whatever a remote puts in artifact.yaml: a VersionInfo gittrack could have written, or a
    FormatError naming the ref; never another exception."""
    commit = forge(git_repo, "model", good_doc(**changes))
    try:
        info = versions.read_info(git_repo, commit, "model")
    except FormatError as exc:
        assert "refs/gittrack/artifacts/model" in str(exc)
        return
    assert info.name == "model" and type(info.version) is int and info.version >= 0
    assert info.producer is None or isinstance(info.producer, str)
    assert type(info.size) is int and info.size >= 0 and isinstance(info.type, str)
    assert isinstance(info.metadata, dict) and isinstance(info.created_at, str)


def test_every_version_is_listed_newest_first(git_repo: pygit2.Repository) -> None:
    for content in ("a", "b", "c"):
        commit_version(git_repo, draft(), rows(content))
    found = versions.every_version(git_repo, "data")
    assert [info.version for info in found] == [2, 1, 0]
    assert [info.commit for info in found] == versions.history(git_repo, "data")
    assert versions.every_version(git_repo, "none") == []


def test_one_file_and_the_count_of_a_version(git_repo: pygit2.Repository) -> None:
    info, _ = commit_version(git_repo, draft(), rows("a", "b", "c"))
    assert versions.find_entry(git_repo, info.commit, "data", "f1") == rows("a", "b")[1]
    assert versions.find_entry(git_repo, info.commit, "data", "f3") is None
    assert versions.count_entries(git_repo, info.commit, "data") == 3
    assert versions.first_entries(git_repo, info.commit, "data", 2) == rows("a", "b")
