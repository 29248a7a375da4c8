"""Removing a version from a chain: later versions keep their numbers and content, numbers are
never reused, the rewrite is deterministic; comparing two chains of one artifact."""

from __future__ import annotations

import uuid

import pygit2
import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from gittrack.artifacts import aliases, versions
from gittrack.artifacts.manifest import ManifestEntry
from gittrack.artifacts.rewrite import compare_chains, plan_rebase, plan_removal
from gittrack.artifacts.versions import Draft, VersionInfo, commit_version
from gittrack.errors import NotFoundError, VersionRemovedError
from gittrack.git import objects, refs
from gittrack.types import CommitId
from tests.helpers.forge_artifacts import forge, good_doc, set_ref


def log(repo: pygit2.Repository, letter: str, name: str = "data") -> VersionInfo:
    info, _ = commit_version(repo, Draft(name, "dataset", None, {"k": letter}, "run1"),
                             [ManifestEntry("f", letter * 64, 1, letter * 64)])
    return info


def chain(repo: pygit2.Repository, name: str = "data") -> list[tuple[int, str]]:
    """(number, content letter) of each version, newest first."""
    out = []
    for commit in versions.history(repo, name):
        info = versions.read_info(repo, commit, name)
        out.append((info.version, versions.read_entries(repo, commit)[0].digest[0]))
    return out


def remove(repo: pygit2.Repository, number: int, name: str = "data") -> None:
    """Rewrite and move the ref (``sync.remove_version`` also handles aliases and pruning)."""
    old = versions.head(repo, name)
    assert old is not None
    removal = plan_removal(repo, name, old, number)
    if removal.new_head is None:
        refs.delete_ref(repo, versions.artifact_ref(name), old)
    else:
        refs.update_ref(repo, versions.artifact_ref(name), removal.new_head, old)


@pytest.mark.parametrize(("number", "left"), [
    (1, [(3, "d"), (2, "c"), (0, "a")]),   # the middle
    (0, [(3, "d"), (2, "c"), (1, "b")]),   # the root
    (3, [(2, "c"), (1, "b"), (0, "a")]),   # the head
])
def test_removing_a_version_keeps_the_others_numbers_and_content(
    git_repo: pygit2.Repository, number: int, left: list[tuple[int, str]],
) -> None:
    before = {v.version: v for v in (log(git_repo, c) for c in "abcd")}
    removal = plan_removal(git_repo, "data", before[3].commit, number)
    assert removal.removed == before[number].commit and removal.left == tuple(n for n, _ in left)
    remove(git_repo, number)
    assert chain(git_repo) == left
    for n, _ in left:  # each remaining version resolves by its number, metadata unchanged
        info = versions.read_info(git_repo, aliases.resolve(git_repo, f"data:v{n}"), "data")
        assert (info.version, info.metadata, info.created_at, info.producer) == (
            n, before[n].metadata, before[n].created_at, before[n].producer)
    with pytest.raises(VersionRemovedError, match=rf"data:v{number} was removed"):
        aliases.resolve(git_repo, f"data:v{number}")
    with pytest.raises(NotFoundError, match=r"no v9 \(its latest version is"):
        aliases.resolve(git_repo, "data:v9")


def test_unchanged_versions_below_keep_their_commits(git_repo: pygit2.Repository) -> None:
    v0, v1, v2 = log(git_repo, "a"), log(git_repo, "b"), log(git_repo, "c")
    removal = plan_removal(git_repo, "data", v2.commit, 1)
    assert set(removal.copies) == {v2.commit}
    assert git_repo[removal.new_head].parent_ids == [pygit2.Oid(hex=v0.commit)]
    assert removal.target(v0.commit) == v0.commit
    assert removal.target(v1.commit) is None
    assert removal.target(v2.commit) == removal.new_head


def test_removing_the_head_records_the_number_so_it_is_never_reused(
    git_repo: pygit2.Repository,
) -> None:
    for c in "abc":
        log(git_repo, c)
    remove(git_repo, 2)
    head = versions.head(git_repo, "data")
    assert head is not None
    doc = yaml.safe_load(objects.read_file(git_repo, objects.commit_tree(git_repo, head),
                                           "artifact.yaml") or b"")
    assert list(doc)[:6] == ["format", "name", "type", "version", "next_version", "description"]
    assert (doc["format"], doc["version"], doc["next_version"]) == (2, 1, 3)
    with pytest.raises(VersionRemovedError):
        aliases.resolve(git_repo, "data:v2")
    remove(git_repo, 1)  # the head again: the mark carries over
    head = versions.head(git_repo, "data")
    assert head is not None and versions.read_info(git_repo, head, "data").next_version == 3
    again = log(git_repo, "c")  # content equal to the removed v2's: a new number
    assert again.version == 3
    assert versions.read_info(git_repo, again.commit, "data").next_version is None
    assert chain(git_repo) == [(3, "c"), (0, "a")]


def test_versions_above_a_gap_say_format_2(git_repo: pygit2.Repository) -> None:
    """A gittrack that resolves vN by depth would name the wrong version: it must refuse."""
    for c in "abcd":
        log(git_repo, c)
    remove(git_repo, 1)
    formats = {n: versions.read_info(git_repo, aliases.resolve(git_repo, f"data:v{n}"),
                                     "data").format
               for n in (0, 2, 3)}
    assert formats == {0: 1, 2: 2, 3: 2}
    assert log(git_repo, "e").format == 2  # logged on top: the gap is still below
    other = log(git_repo, "a", name="other")
    assert other.format == 1 and other.to_dict()["format"] == 1


def test_the_mark_survives_removing_a_version_below_the_head(
    git_repo: pygit2.Repository,
) -> None:
    for c in "abc":
        log(git_repo, c)
    remove(git_repo, 2)  # the head: v1 is the head again, with next_version 3
    remove(git_repo, 0)  # v1 is copied again: the mark goes with it
    assert log(git_repo, "d").version == 3


def test_identical_content_returns_the_head_after_a_removal(
    git_repo: pygit2.Repository,
) -> None:
    for c in "abc":
        log(git_repo, c)
    remove(git_repo, 2)
    same, created = commit_version(git_repo, Draft("data", "dataset", None, {}, "run2"),
                                   [ManifestEntry("f", "b" * 64, 1, "b" * 64)])
    assert (same.version, created) == (1, False)


def test_removing_the_only_version_leaves_no_chain(git_repo: pygit2.Repository) -> None:
    v0 = log(git_repo, "a")
    removal = plan_removal(git_repo, "data", v0.commit, 0)
    assert removal.new_head is None and removal.left == ()
    assert removal.target(v0.commit) is None


def test_the_rewrite_is_deterministic(git_repo: pygit2.Repository) -> None:
    for c in "abcd":
        log(git_repo, c)
    head = versions.head(git_repo, "data")
    assert head is not None
    for number in range(4):
        first = plan_removal(git_repo, "data", head, number)
        assert plan_removal(git_repo, "data", head, number) == first


def test_a_longer_chain_rewrites_into_a_descendant(git_repo: pygit2.Repository) -> None:
    for c in "abc":
        log(git_repo, c)
    short = versions.head(git_repo, "data")
    longer = log(git_repo, "d").commit
    assert short is not None
    a = plan_removal(git_repo, "data", short, 1).new_head
    b = plan_removal(git_repo, "data", longer, 1).new_head
    assert a is not None and b is not None and git_repo.descendant_of(b, a)


def test_unknown_versions_cannot_be_removed(git_repo: pygit2.Repository) -> None:
    v = log(git_repo, "a")
    with pytest.raises(NotFoundError):
        plan_removal(git_repo, "data", v.commit, 5)


def test_old_data_without_next_version_resolves_by_depth(git_repo: pygit2.Repository) -> None:
    infos = [log(git_repo, c) for c in "abcde"]
    for info in infos:
        assert "next_version" not in info.to_dict()
        assert versions.version_commit(git_repo, "data", info.version) == info.commit


def test_compare_chains_names_removed_and_new_versions(git_repo: pygit2.Repository) -> None:
    for c in "abc":
        log(git_repo, c)
    old = versions.head(git_repo, "data")
    assert old is not None
    rewritten = plan_removal(git_repo, "data", old, 1).new_head
    assert rewritten is not None
    diff = compare_chains(git_repo, "data", old, rewritten)
    assert diff is not None and diff.removed_there == (1,) and diff.only_here == ()
    newer = log(git_repo, "d").commit  # here: v3 on the old chain
    diff = compare_chains(git_repo, "data", newer, rewritten)
    assert diff is not None and (diff.removed_there, diff.only_here) == ((1,), (3,))
    reverse = compare_chains(git_repo, "data", rewritten, newer)
    assert reverse is not None and (reverse.removed_here, reverse.only_there) == ((1,), (3,))


def test_compare_chains_of_other_content_is_none(git_repo: pygit2.Repository) -> None:
    v0 = log(git_repo, "a").commit
    first = log(git_repo, "b").commit
    set_ref(git_repo, "refs/gittrack/artifacts/data", v0)
    other = log(git_repo, "x")  # a diverged chain: same numbers, other content
    assert compare_chains(git_repo, "data", first, CommitId(other.commit)) is None


@hsettings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.tuples(st.just("log"), st.sampled_from("abcd")),
                          st.tuples(st.just("rm"), st.integers(0, 30))), max_size=14))
def test_numbers_stay_unique_and_increasing(git_repo: pygit2.Repository,
                                            steps: list[tuple[str, object]]) -> None:
    name = f"h{uuid.uuid4().hex[:12]}"  # the repository is shared by the examples
    used: set[int] = set()  # every number ever given while the artifact existed
    model: list[tuple[int, str]] = []  # the chain, oldest first
    for op, arg in steps:
        if op == "log":
            info = log(git_repo, str(arg), name=name)
            if model and model[-1][1] == arg:
                assert info.version == model[-1][0]  # the head, unchanged
                continue
            assert info.version not in used and info.version == max(used, default=-1) + 1
            used.add(info.version)
            model.append((info.version, str(arg)))
        elif model:
            number = model[int(str(arg)) % len(model)][0]
            if len(model) == 1:
                continue  # removing the only version deletes the artifact (sync.delete)
            remove(git_repo, number, name=name)
            model = [m for m in model if m[0] != number]
    assert chain(git_repo, name) == list(reversed(model))
    for number in used:
        if number in dict(model):
            assert versions.read_info(git_repo, aliases.resolve(
                git_repo, f"{name}:v{number}"), name).version == number
        else:
            with pytest.raises(VersionRemovedError):
                aliases.resolve(git_repo, f"{name}:v{number}")


# -- rebase: versions made here put on top of a teammate's --------------------------------

def fork(repo: pygit2.Repository, base: CommitId, letters: str,
         name: str = "data") -> CommitId:
    """Versions with ``letters`` logged on ``base`` (another clone's), leaving the ref as it
    was; the new tip."""
    ref = versions.artifact_ref(name)
    before = versions.head(repo, name)
    assert before is not None
    if before != base:
        refs.update_ref(repo, ref, base, before)
    for letter in letters:
        log(repo, letter, name)
    tip = versions.head(repo, name)
    assert tip is not None
    refs.update_ref(repo, ref, before, tip)
    return tip


def test_a_rebase_renumbers_the_versions_made_here(git_repo: pygit2.Repository) -> None:
    base = log(git_repo, "a").commit
    theirs = fork(git_repo, base, "bc")            # a teammate's v1 and v2
    ours = fork(git_repo, base, "de")              # ours, also v1 and v2
    plan = plan_rebase(git_repo, "data", ours, theirs, base)
    assert plan is not None and plan.renumbered == ((1, 3), (2, 4)) and not plan.merged
    refs.update_ref(git_repo, versions.artifact_ref("data"), plan.new_head, base)
    assert chain(git_repo) == [(4, "e"), (3, "d"), (2, "c"), (1, "b"), (0, "a")]
    old_v1 = versions.find_version(git_repo, "data", ours, 1)
    copy = versions.read_info(git_repo, plan.copies[old_v1], "data")
    assert copy.replaces == (old_v1,) and copy.metadata == {"k": "d"}
    assert copy.created_at == versions.read_info(git_repo, old_v1, "data").created_at
    # the record of a run that logged our v1 (label, commit, content) finds the copy
    content = versions.manifest_id(git_repo, old_v1)
    assert aliases.resolve_recorded(git_repo, "data:v1", old_v1, content) == (copy.commit, True)
    theirs_v1 = versions.find_version(git_repo, "data", theirs, 1)
    assert aliases.resolve_recorded(git_repo, "data:v1", theirs_v1) == (theirs_v1, False)


def test_a_version_with_a_teammates_content_collapses(git_repo: pygit2.Repository) -> None:
    base = log(git_repo, "a").commit
    theirs = fork(git_repo, base, "bc")
    ours = fork(git_repo, base, "cd")              # our v1 has their v2's files
    plan = plan_rebase(git_repo, "data", ours, theirs, base)
    assert plan is not None and plan.merged == ((1, 2),) and plan.renumbered == ((2, 3),)
    mine = versions.find_version(git_repo, "data", ours, 1)
    assert plan.target(mine) == versions.find_version(git_repo, "data", theirs, 2)
    refs.update_ref(git_repo, versions.artifact_ref("data"), plan.new_head, base)
    # a run's record of the collapsed version follows its content, where the commit is gone
    assert aliases.resolve_recorded(git_repo, "data:v1", "f" * 40,
                                    versions.manifest_id(git_repo, mine))[0] == theirs


def test_a_commit_found_nowhere_is_not_the_labels_version(git_repo: pygit2.Repository) -> None:
    log(git_repo, "a")
    with pytest.raises(NotFoundError, match="not in this clone"):
        aliases.resolve_recorded(git_repo, "data:v0", "f" * 40, "e" * 40)


def test_no_rebase_when_this_clone_removed_what_the_remote_has(
        git_repo: pygit2.Repository) -> None:
    for letter in "abc":
        log(git_repo, letter)
    theirs = versions.head(git_repo, "data")
    assert theirs is not None
    remove(git_repo, 1)
    ours = versions.head(git_repo, "data")
    assert ours is not None
    assert plan_rebase(git_repo, "data", ours, theirs, theirs) is None


@pytest.mark.parametrize("doc", [{"version": "x"}, {"name": "other"}, b"[unclosed"])
def test_no_rebase_onto_a_forged_chain(git_repo: pygit2.Repository,
                                       doc: dict[str, object] | bytes) -> None:
    base = log(git_repo, "a").commit
    ours = fork(git_repo, base, "b")
    forged = doc if isinstance(doc, bytes) else good_doc(**{"name": "data", **doc})
    theirs = forge(git_repo, "junk", forged, parents=[base])
    assert plan_rebase(git_repo, "data", ours, theirs, base) is None
