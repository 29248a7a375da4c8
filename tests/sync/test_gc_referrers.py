"""``gc`` keeps what any kind of ref names, not only artifact versions: a blob named only by
a ref of another kind (a test double of run media, registered in ``storage.reachability``)
stays, and is collected once that kind is not registered."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pygit2
import pytest

from gittrack.git import namespace, objects, refs
from gittrack.git.repo import Repository
from gittrack.storage import reachability
from gittrack.storage.entry import ManifestEntry
from gittrack.storage.project import open_storage
from gittrack.sync.gc import collect
from gittrack.types import CommitId, RefName
from tests.helpers.storage import store_names

MEDIA = f"{namespace.ROOT}media/"
LISTING = "media.json"


class Media:
    """A kind of ref whose commits list stored files in ``media.json``."""

    def owns(self, ref: str) -> bool:
        return ref.startswith(MEDIA)

    def reader(self, repo: Repository, *, marks_only: bool) -> reachability.Reader:
        def read(commit: CommitId) -> Iterable[ManifestEntry]:
            raw = objects.read_file(repo, objects.commit_tree(repo, commit), LISTING)
            return [] if raw is None else [ManifestEntry(**row) for row in json.loads(raw)]

        return read


@pytest.fixture
def media() -> Iterator[Media]:
    kind = Media()
    reachability.register(kind)
    yield kind
    reachability.unregister(kind)


def media_ref(repo: Path) -> str:
    """A ``refs/gittrack/media/x`` commit naming one stored file; returns its blob name."""
    r = pygit2.Repository(str(repo))
    (repo / "frame.png").write_bytes(b"media bytes")
    entry = open_storage(r).put_file(repo / "frame.png")
    assert entry.blob is not None
    tree = objects.write_tree(r, None, {LISTING: json.dumps([entry.to_dict()]).encode()})
    commit = objects.commit(r, tree, [], "media")
    refs.update_ref(r, RefName(f"{MEDIA}x"), commit, None)
    return entry.blob


def test_gc_keeps_a_blob_only_a_registered_kind_of_ref_names(repo: Path, media: Media) -> None:
    blob = media_ref(repo)
    assert reachability.names_blobs(f"{MEDIA}x")
    report = collect(pygit2.Repository(str(repo)), grace=0)
    assert report.removed == () and report.marked == 1
    assert store_names(repo) == {blob}


def test_without_the_registration_gc_collects_it(repo: Path) -> None:
    blob = media_ref(repo)
    assert not reachability.names_blobs(f"{MEDIA}x")
    report = collect(pygit2.Repository(str(repo)), grace=0)
    assert [b.name for b in report.removed] == [blob]
    assert store_names(repo) == set()
