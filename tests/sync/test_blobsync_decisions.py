"""``sync.blobsync.upload_missing``, through its public function: which blobs a push
uploads (those of the versions it sends that the store lacks, each once) and which it does
not even check (those of versions the remote's refs already name)."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

import gittrack
from gittrack.artifacts import aliases
from gittrack.errors import BlobNotFoundError
from gittrack.storage.config import save_storage
from gittrack.sync.blobsync import BlobReport, upload_missing
from tests.helpers.runs import FAST

FILES = {"v0": {"a.txt": "shared", "b.txt": "only v0"},
         "v1": {"a.txt": "shared", "c.txt": "only in v1, longer"}}


def _log(repo: Path, files: dict[str, str]) -> None:
    with gittrack.init(settings=dict(FAST)) as run:
        artifact = gittrack.Artifact("model", type="model")
        for name, text in files.items():
            (repo / name).write_text(text)
            artifact.add_file(str(repo / name))
        run.log_artifact(artifact)


@pytest.fixture
def versions(repo: Path) -> dict[str, str]:
    """Two versions of ``model`` logged before shared storage was configured (their blobs in
    ``.git/gittrack/blobs``): v0 {a, b}, v1 {a, c}; their commits."""
    for files in FILES.values():
        _log(repo, files)
    git_repo = pygit2.Repository(str(repo))
    return {v: aliases.resolve(git_repo, f"model:{v}") for v in FILES}


def _blobs(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if p.is_file()]


def test_without_shared_storage_nothing_is_uploaded(repo: Path,
                                                    versions: dict[str, str]) -> None:
    report = upload_missing(pygit2.Repository(str(repo)), [versions["v1"]])
    assert report == BlobReport(checked=3, local_only=True)


# versions the remote's refs name → blobs checked (a.txt, shared, is one blob)
CHECKED = {"nothing there": ((), 3), "v0 there": (("v0",), 2), "v1 there": (("v1",), 0)}


@pytest.mark.parametrize(("there", "checked"), CHECKED.values(), ids=list(CHECKED))
def test_the_blobs_the_store_lacks_are_uploaded_once(
    repo: Path, tmp_path: Path, versions: dict[str, str], there: tuple[str, ...], checked: int,
) -> None:
    git_repo = pygit2.Repository(str(repo))
    store = tmp_path / "store"
    save_storage(git_repo, str(store), {}, local=True)
    remote_has = [versions[v] for v in there]

    first = upload_missing(git_repo, [versions["v1"]], remote_has=remote_has)
    again = upload_missing(git_repo, [versions["v1"]], remote_has=remote_has)

    assert (first.checked, first.uploaded) == (checked, checked)
    assert len(_blobs(store)) == checked
    sizes = {3: len("shared") + len("only v0") + len("only in v1, longer"),
             2: len("shared") + len("only in v1, longer"), 0: 0}
    assert first.uploaded_bytes == sizes[checked]
    assert (again.checked, again.uploaded) == (checked, 0)


def test_a_blob_on_no_store_and_not_here_refuses_the_push(
    repo: Path, tmp_path: Path, versions: dict[str, str],
) -> None:
    git_repo = pygit2.Repository(str(repo))
    for blob in _blobs(repo / ".git" / "gittrack"):  # the default store and the cache
        blob.unlink()
    for name in ("a.txt", "b.txt", "c.txt"):
        (repo / name).write_text("edited since")
    save_storage(git_repo, str(tmp_path / "store"), {}, local=True)
    with pytest.raises(BlobNotFoundError, match="Nothing was pushed"):
        upload_missing(git_repo, [versions["v1"]])
    assert _blobs(tmp_path / "store") == []
