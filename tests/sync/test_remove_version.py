"""``remove_version``: one version out of an artifact's chain, here and on a bare remote in one
push; aliases, pruning, lineage, and clones that follow by pull."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
import pytest

import gittrack
from gittrack.artifacts import aliases, versions
from gittrack.errors import NotFoundError, VersionRemovedError
from gittrack.git import transport
from gittrack.sync.compare import Standing
from gittrack.sync.pull import pull
from gittrack.sync.remove_version import remove_version
from tests.helpers.repos import add_bare_remote, git, has_object, make_repo, mirror_fetch, push_all
from tests.helpers.runs import log_versions, marked_run


def numbers(repo: Path | pygit2.Repository, name: str = "model") -> list[int]:
    git_repo = repo if isinstance(repo, pygit2.Repository) else pygit2.Repository(str(repo))
    head = versions.head(git_repo, name)
    return versions.numbers(git_repo, name, head) if head else []


def commit_of(repo: Path, spec: str) -> str:
    return aliases.resolve(pygit2.Repository(str(repo)), spec)


def content(repo: Path, spec: str) -> str:
    git_repo = pygit2.Repository(str(repo))
    return versions.read_entries(git_repo, aliases.resolve(git_repo, spec))[0].digest


def count_pushes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    pushes: list[list[str]] = []
    real = transport.push

    def counting(*args: Any, **kwargs: Any) -> Any:
        pushes.append(list(args[2]))
        return real(*args, **kwargs)

    monkeypatch.setattr(transport, "push", counting)
    return pushes


def test_remove_a_middle_version_here(repo: Path) -> None:
    makers = log_versions(repo, 4)
    user = marked_run(use="model:v1")
    git(repo, "update-ref", "refs/gittrack/aliases/model/best", commit_of(repo, "model:v1"))
    git(repo, "update-ref", "refs/gittrack/aliases/model/prod", commit_of(repo, "model:v2"))
    git(repo, "config", "core.logAllRefUpdates", "always")
    git(repo, "update-ref", "-m", "touch", "refs/gittrack/artifacts/model",
        "refs/gittrack/artifacts/model")
    old = {n: commit_of(repo, f"model:v{n}") for n in range(4)}
    manifest = git(repo, "rev-parse", f"{old[1]}:manifest.parquet").strip()
    contents = {n: content(repo, f"model:v{n}") for n in (0, 2, 3)}

    report = remove_version(pygit2.Repository(str(repo)), "model", 1)

    assert numbers(repo) == [3, 2, 0] and report.latest == 3 and report.aliases == ("best",)
    assert {n: content(repo, f"model:v{n}") for n in (0, 2, 3)} == contents
    assert commit_of(repo, "model:v0") == old[0]  # below the removed one: untouched
    assert commit_of(repo, "model:prod") == commit_of(repo, "model:v2") != old[2]
    assert "refs/gittrack/aliases/model/best" not in git(repo, "for-each-ref")
    assert not any(has_object(repo, o) for o in (old[1], old[2], old[3], manifest))
    assert not (repo / ".git" / "logs" / "refs" / "gittrack" / "artifacts" / "model").exists()
    git(repo, "fsck", "--no-dangling")
    # the run that used v1 keeps its record; readers say the version was removed
    api = gittrack.Api(str(repo))
    assert api.run(user).metadata["artifacts"] == {"used": ["model:v1"]}
    assert api.run(user).used_artifacts() == []
    assert [v.id for v in api.used_by("model:v1")] == [user]
    assert api.logged_by("model:v1").id == makers[1]  # type: ignore[union-attr]
    with pytest.raises(VersionRemovedError, match=r"model:v1 was removed"):
        api.artifact("model:v1")
    with pytest.raises(VersionRemovedError):
        marked_run(use="model:v1")


def test_remove_the_tip_then_log_again_never_reuses_its_number(repo: Path) -> None:
    log_versions(repo, 3)
    report = remove_version(pygit2.Repository(str(repo)), "model", 2)
    assert numbers(repo) == [1, 0] and report.latest == 1
    (repo / "w.bin").write_bytes(b"weights model v1")  # the head's content: no new version
    marked_run(artifact=("model", repo / "w.bin"))
    assert numbers(repo) == [1, 0]
    (repo / "w.bin").write_bytes(b"weights model v2")  # the removed content: a new number
    marked_run(artifact=("model", repo / "w.bin"))
    assert numbers(repo) == [3, 1, 0]


def test_remove_v0_and_the_only_version(repo: Path) -> None:
    log_versions(repo, 2)
    remove_version(pygit2.Repository(str(repo)), "model", 0)
    assert numbers(repo) == [1]
    assert pygit2.Repository(str(repo))[commit_of(repo, "model:v1")].parents == []
    git(repo, "update-ref", "refs/gittrack/aliases/model/best", "refs/gittrack/artifacts/model")
    report = remove_version(pygit2.Repository(str(repo)), "model", 1)
    assert report.here is not None and report.here.new_head is None
    assert report.latest is None and report.aliases == ("best",)
    assert "model" not in git(repo, "for-each-ref")


def test_unknown_and_removed_versions(repo: Path) -> None:
    log_versions(repo, 2)
    git_repo = pygit2.Repository(str(repo))
    with pytest.raises(NotFoundError, match=r"no v7"):
        remove_version(git_repo, "model", 7)
    remove_version(git_repo, "model", 0)
    with pytest.raises(VersionRemovedError, match=r"model:v0 was removed"):
        remove_version(git_repo, "model", 0)
    with pytest.raises(NotFoundError, match=r"no artifact named 'nope'"):
        remove_version(git_repo, "nope", 0)


def test_remove_on_the_remote_in_one_push_and_clones_follow(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bare = add_bare_remote(repo)
    log_versions(repo, 3)
    git(repo, "update-ref", "refs/gittrack/aliases/model/best", commit_of(repo, "model:v1"))
    git(repo, "update-ref", "refs/gittrack/aliases/model/prod", commit_of(repo, "model:v2"))
    push_all(repo)
    git(bare, "update-ref", "refs/gittrack/aliases/model/theirs", commit_of(repo, "model:v1"))
    clones = {}
    for name in ("b", "c"):
        clones[name] = make_repo(tmp_path / name)
        git(clones[name], "remote", "add", "origin", str(bare))
        pull(pygit2.Repository(str(clones[name])), "origin")
    mirror_fetch(repo)
    pushes = count_pushes(monkeypatch)

    report = remove_version(pygit2.Repository(str(repo)), "model", 1, remote="origin")

    assert len(pushes) == 1 and report.there is not None
    assert report.aliases == ("best", "theirs")
    there = dict(line.split()[::-1] for line in git(
        bare, "for-each-ref", "--format=%(objectname) %(refname)", "refs/gittrack/artifacts",
        "refs/gittrack/aliases").splitlines())
    head = git(repo, "rev-parse", "refs/gittrack/artifacts/model").strip()
    assert there == {"refs/gittrack/artifacts/model": head,
                     "refs/gittrack/aliases/model/prod": commit_of(repo, "model:prod")}
    assert git(repo, "rev-parse", "refs/gittrack-remotes/origin/artifacts/model").strip() == head
    assert report.refs.elsewhere == ()

    # b, with nothing new: pull takes the removal (issue 13), the very same chain
    b = pygit2.Repository(str(clones["b"]))
    seen = pull(b, "origin")
    assert seen.diverged == [] and seen.advice == ()
    [taken] = seen.rebased
    assert taken.state.ref == "refs/gittrack/artifacts/model" and taken.plan.removed == (1,)
    assert "refs/gittrack/aliases/model/best" in seen.deleted_remotely
    assert versions.head(b, "model") == head
    after = pull(b, "origin")
    assert after.states == () and after.up_to_date > 0  # every ref the same on both sides

    # c: pull --force takes the chain; an alias the remote deleted says what it named
    c = pygit2.Repository(str(clones["c"]))
    forced = pull(c, "origin", force=True, prune=False)  # keeps the alias it deleted
    assert [s.ref for s in forced.forced] == ["refs/gittrack/artifacts/model"]
    assert numbers(c) == [2, 0]
    with pytest.raises(VersionRemovedError, match=r"alias model:best names model:v1"):
        aliases.resolve(c, "model:best")


def test_remove_on_the_remote_after_removing_here(repo: Path) -> None:
    bare = add_bare_remote(repo)
    log_versions(repo, 3)
    push_all(repo)
    mirror_fetch(repo)
    removed = commit_of(repo, "model:v1")
    local = remove_version(pygit2.Repository(str(repo)), "model", 1)
    assert local.refs.elsewhere == ("origin",)  # the remote's copy keeps its objects here
    assert has_object(repo, removed)
    again = remove_version(pygit2.Repository(str(repo)), "model", 1, remote="origin")
    assert again.here is None and again.there is not None
    head = git(repo, "rev-parse", "refs/gittrack/artifacts/model").strip()
    assert git(bare, "rev-parse", "refs/gittrack/artifacts/model").strip() == head
    assert not has_object(repo, removed)
    with pytest.raises(VersionRemovedError, match="nor on origin"):
        remove_version(pygit2.Repository(str(repo)), "model", 1, remote="origin")


def test_a_remote_ahead_loses_the_version_and_this_clone_fast_forwards(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bare = add_bare_remote(repo)
    log_versions(repo, 3)
    push_all(repo)
    b = make_repo(tmp_path / "b")
    git(b, "remote", "add", "origin", str(bare))
    pull(pygit2.Repository(str(b)), "origin")
    monkeypatch.chdir(b)
    (b / "w.bin").write_bytes(b"weights model v3")
    marked_run(artifact=("model", b / "w.bin"))
    push_all(b)
    monkeypatch.chdir(repo)

    report = remove_version(pygit2.Repository(str(repo)), "model", 1, remote="origin")

    assert report.there is not None and report.there.left == (3, 2, 0)
    assert numbers(repo) == [2, 0]
    taken = pull(pygit2.Repository(str(repo)), "origin")
    [state] = [s for s in taken.states if s.ref == "refs/gittrack/artifacts/model"]
    assert state.standing is Standing.BEHIND
    assert numbers(repo) == [3, 2, 0]
    assert numbers(b) == [3, 2, 1, 0]  # b keeps its chain until it pulls


def test_gc_reclaims_only_the_removed_versions_blobs_after_the_grace(repo: Path) -> None:
    import hashlib

    from gittrack.sync.gc import collect
    from tests.helpers.storage import store_names

    log_versions(repo, 3)
    digests = [hashlib.sha256(f"weights model v{i}".encode()).hexdigest() for i in range(3)]
    git_repo = pygit2.Repository(str(repo))
    remove_version(git_repo, "model", 1)
    assert store_names(repo) == set(digests)  # rm leaves blobs to gc
    assert collect(git_repo).removed == ()  # within the grace period
    assert [b.name for b in collect(git_repo, grace=0).removed] == [digests[1]]
    assert store_names(repo) == {digests[0], digests[2]}
