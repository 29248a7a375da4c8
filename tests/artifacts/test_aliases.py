"""Aliases as refs: they move, `latest` is the head, specs resolve or say what exists."""

from __future__ import annotations

import pygit2
import pytest

from gittrack.artifacts import aliases
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.versions import Draft, VersionInfo, commit_version
from gittrack.errors import FormatError, NotFoundError, UsageError


def log(repo: pygit2.Repository, letter: str, name: str = "data") -> VersionInfo:
    info, _ = commit_version(repo, Draft(name, "dataset", None, {}, None),
                             [ManifestEntry("f", letter * 64, 1, letter * 64)])
    return info


def test_aliases_move_and_latest_is_the_head(git_repo: pygit2.Repository) -> None:
    v0, v1 = log(git_repo, "a"), log(git_repo, "b")
    aliases.set_alias(git_repo, "data", "best", v0.commit)
    assert aliases.aliases_of(git_repo, "data", v0.commit) == ["best"]
    assert aliases.aliases_of(git_repo, "data", v1.commit) == ["latest"]
    aliases.set_alias(git_repo, "data", "best", v1.commit)
    assert aliases.aliases_of(git_repo, "data", v0.commit) == []
    assert aliases.aliases_of(git_repo, "data", v1.commit) == ["latest", "best"]
    assert git_repo.references["refs/gittrack/aliases/data/best"].target == pygit2.Oid(
        hex=v1.commit)
    assert aliases.all_aliases(git_repo) == {"data": {"best": v1.commit}}


def test_specs(git_repo: pygit2.Repository) -> None:
    v0, v1 = log(git_repo, "a"), log(git_repo, "b")
    aliases.set_alias(git_repo, "data", "prod", v0.commit)
    assert aliases.resolve(git_repo, "data") == v1.commit
    assert aliases.resolve(git_repo, "data:latest") == v1.commit
    assert aliases.resolve(git_repo, "data:v0") == v0.commit
    assert aliases.resolve(git_repo, " data:prod ") == v0.commit


def test_unknown_alias_names_those_that_exist(git_repo: pygit2.Repository) -> None:
    v0 = log(git_repo, "a")
    aliases.set_alias(git_repo, "data", "prod", v0.commit)
    with pytest.raises(NotFoundError, match=r"no alias 'best' \(aliases: latest, prod\)"):
        aliases.resolve(git_repo, "data:best")


def test_unknown_artifact_names_those_that_exist(git_repo: pygit2.Repository) -> None:
    with pytest.raises(NotFoundError, match=r"artifacts: none yet"):
        aliases.resolve(git_repo, "data")
    log(git_repo, "a", name="mnist")
    with pytest.raises(NotFoundError, match=r"no artifact named 'data' \(artifacts: mnist\)"):
        aliases.resolve(git_repo, "data:v0")


@pytest.mark.parametrize("bad", ["latest", "v3", "a/b", "..", "", "x:y"])
def test_bad_aliases(git_repo: pygit2.Repository, bad: str) -> None:
    v0 = log(git_repo, "a")
    with pytest.raises(UsageError):
        aliases.set_alias(git_repo, "data", bad, v0.commit)


@pytest.mark.parametrize("bad", ["", "data:", "a/b:v1", "../x"])
def test_bad_specs(bad: str) -> None:
    with pytest.raises(UsageError):
        aliases.parse_spec(bad)


def test_remove(git_repo: pygit2.Repository) -> None:
    v0 = log(git_repo, "a")
    aliases.set_alias(git_repo, "data", "prod", v0.commit)
    aliases.remove_alias(git_repo, "data", "prod")
    assert aliases.aliases(git_repo, "data") == {}
    with pytest.raises(NotFoundError):
        aliases.remove_alias(git_repo, "data", "prod")


def test_an_alias_left_by_a_rewrite_follows_its_version(git_repo: pygit2.Repository) -> None:
    """A chain taken from a remote that removed v1 (``pull --force``) leaves aliases naming
    the old commits: they resolve to the copy with the same number, or say it was removed."""
    from gittrack.artifacts import versions
    from gittrack.artifacts.rewrite import plan_removal
    from gittrack.errors import VersionRemovedError
    from gittrack.git import refs

    _, v1, v2 = log(git_repo, "a"), log(git_repo, "b"), log(git_repo, "c")
    aliases.set_alias(git_repo, "data", "best", v2.commit)
    aliases.set_alias(git_repo, "data", "old", v1.commit)
    removal = plan_removal(git_repo, "data", v2.commit, 1)
    assert removal.new_head is not None
    refs.update_ref(git_repo, versions.artifact_ref("data"), removal.new_head, v2.commit)
    assert aliases.resolve(git_repo, "data:best") == removal.new_head
    with pytest.raises(VersionRemovedError, match=r"alias data:old names data:v1, which was "):
        aliases.resolve(git_repo, "data:old")
    tip = versions.head(git_repo, "data")
    assert tip is not None
    other = log(git_repo, "x")  # then the ref moves back: off the chain, other content
    refs.update_ref(git_repo, versions.artifact_ref("data"), tip, other.commit)
    git_repo.references.create("refs/gittrack/aliases/data/odd", other.commit)
    assert aliases.resolve(git_repo, "data:odd") == other.commit
    # an alias naming another artifact's version (forged) is refused, naming the ref
    foreign = log(git_repo, "y", name="other")
    git_repo.references.create("refs/gittrack/aliases/data/foreign", foreign.commit)
    with pytest.raises(FormatError, match=r"refs/gittrack/artifacts/data .*'other'"):
        aliases.resolve(git_repo, "data:foreign")


@pytest.mark.parametrize("case", ["first alias", "another alias", "move", "delete"])
def test_a_read_only_git_dir_is_a_repository_error(git_repo: pygit2.Repository, repo: object,
                                                  case: str) -> None:
    """Issue 8: ``artifact alias`` on a read-only .git exited 74 ("failed to make
    directory"); ``rm`` gave 3. Every alias write names the repository, exit 3."""
    from pathlib import Path

    from gittrack.errors import RepositoryError
    from tests.helpers.disks import read_only

    first, second = log(git_repo, "a"), log(git_repo, "b")
    if case != "first alias":
        aliases.set_alias(git_repo, "data", "best", first.commit)
    alias = "prod" if case == "another alias" else "best"
    git_dir = Path(git_repo.path)
    with read_only(git_dir), pytest.raises(RepositoryError) as raised:
        if case == "delete":
            aliases.remove_alias(git_repo, "data", alias)
        else:
            aliases.set_alias(git_repo, "data", alias, second.commit)
    assert str(git_dir).rstrip("/") in str(raised.value)
    assert "Read-only file system" in str(raised.value)
    assert aliases.aliases(git_repo, "data").get("best") == (
        None if case == "first alias" else first.commit)
