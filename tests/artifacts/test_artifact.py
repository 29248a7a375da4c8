"""gittrack.Artifact: what add_* accepts, what it refuses, and that a refusal changes nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import gittrack
from gittrack.artifacts.artifact import PlannedFile, PlannedReference
from gittrack.errors import InvalidValueError, UsageError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.txt").write_text("b")
    return root


def names(art: gittrack.Artifact) -> list[str]:
    return [p.name for p in art.planned]


def test_add_file_dir_and_reference(tree: Path) -> None:
    art = gittrack.Artifact("mnist", "dataset", description="digits", metadata={"n": 2})
    art.add_file(tree / "a.txt")
    art.add_file(tree / "a.txt", name="copy/a.txt")
    art.add_dir(tree, name="all")
    art.add_reference(tree / "sub" / "b.txt")
    assert names(art) == ["a.txt", "all/a.txt", "all/sub/b.txt", "b.txt", "copy/a.txt"]
    ref = art.planned[3]
    assert isinstance(ref, PlannedReference) and ref.uri == (tree / "sub" / "b.txt").as_uri()
    assert isinstance(art.planned[0], PlannedFile)
    assert len(art) == 5 and "mnist" in repr(art)


def test_add_dir_at_the_top_level(tree: Path) -> None:
    art = gittrack.Artifact("d", "dataset")
    art.add_dir(tree)
    assert names(art) == ["a.txt", "sub/b.txt"]


@pytest.mark.parametrize("name", ["a/b", "..", "a..b", "", "x:y", "/abs", ".hidden", "a b"])
def test_bad_artifact_names(name: str) -> None:
    with pytest.raises(UsageError, match=r"artifact name"):
        gittrack.Artifact(name, "dataset")


@pytest.mark.parametrize("kind", ["", "  ", "a\nb", None, 3])
def test_bad_types(kind: object) -> None:
    with pytest.raises(UsageError, match=r"type"):
        gittrack.Artifact("ok", kind)  # type: ignore[arg-type]


def test_metadata_must_be_plain_data() -> None:
    with pytest.raises(InvalidValueError):
        gittrack.Artifact("ok", "model", metadata={"f": object()})
    with pytest.raises(UsageError):
        gittrack.Artifact("ok", "model", metadata=[1, 2])  # type: ignore[arg-type]


def test_missing_file_and_directory_given_to_add_file(tree: Path) -> None:
    art = gittrack.Artifact("d", "dataset")
    with pytest.raises(UsageError, match=r"does not exist"):
        art.add_file(tree / "missing.txt")
    with pytest.raises(UsageError, match=r"is a directory: use add_dir"):
        art.add_file(tree)
    with pytest.raises(UsageError, match=r"not a directory"):
        art.add_dir(tree / "a.txt")
    with pytest.raises(UsageError, match=r"does not exist"):
        art.add_reference(tree / "missing.txt")
    assert len(art) == 0


@pytest.mark.parametrize("name", ["/abs.txt", "dir/", "../up.txt", "a/../b", "a//b"])
def test_bad_file_names(tree: Path, name: str) -> None:
    art = gittrack.Artifact("d", "dataset")
    with pytest.raises(UsageError, match=r"relative path"):
        art.add_file(tree / "a.txt", name=name)
    with pytest.raises(UsageError, match=r"relative path"):
        art.add_dir(tree, name=name)
    assert len(art) == 0


def test_duplicates_refuse_the_whole_call(tree: Path) -> None:
    art = gittrack.Artifact("d", "dataset")
    art.add_file(tree / "sub" / "b.txt", name="sub/b.txt")
    with pytest.raises(UsageError, match=r"two files named 'sub/b.txt'"):
        art.add_dir(tree)  # a.txt would be fine, sub/b.txt clashes: neither is added
    assert names(art) == ["sub/b.txt"]
    with pytest.raises(UsageError, match=r"both as a file and as a folder"):
        art.add_file(tree / "a.txt", name="sub")
    with pytest.raises(UsageError, match=r"both as a file and as a folder"):
        art.add_file(tree / "a.txt", name="sub/b.txt/c")
    assert names(art) == ["sub/b.txt"]


def test_a_reference_and_a_file_cannot_share_a_name(tree: Path) -> None:
    art = gittrack.Artifact("d", "dataset")
    art.add_reference(tree / "a.txt", name="x")
    with pytest.raises(UsageError, match=r"two files named 'x'"):
        art.add_file(tree / "a.txt", name="x")
    with pytest.raises(UsageError, match=r"two files named 'x'"):
        art.add_reference(tree / "sub", name="x")
    assert [type(p).__name__ for p in art.planned] == ["PlannedReference"]


def test_add_dir_follows_file_links_but_not_folder_links(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("o")
    (tree / "link.txt").symlink_to(tmp_path / "outside.txt")
    (tree / "broken.txt").symlink_to(tmp_path / "nowhere")
    (tree / "loop").symlink_to(tree)  # entering it would never end
    (tree / "sub" / "deeper").mkdir()
    (tree / "sub" / "deeper" / "c.txt").write_text("c")
    art = gittrack.Artifact("d", "dataset")
    art.add_dir(tree, name="top")
    assert names(art) == ["top/a.txt", "top/link.txt", "top/sub/b.txt", "top/sub/deeper/c.txt"]
    planned = {p.name: p for p in art.planned if isinstance(p, PlannedFile)}
    assert Path(planned["top/link.txt"].source) == tree / "link.txt"


def test_add_dir_refuses_a_file_name_with_a_backslash(tree: Path) -> None:
    (tree / "sub" / "a\\b.txt").write_text("x")  # a valid file name on Linux
    art = gittrack.Artifact("d", "dataset")
    with pytest.raises(UsageError, match=r"backslash"):
        art.add_dir(tree)
    assert len(art) == 0


def test_add_dir_clashing_with_earlier_names_names_the_clash(tree: Path) -> None:
    art = gittrack.Artifact("d", "dataset")
    art.add_file(tree / "a.txt", name="all/sub")
    with pytest.raises(UsageError, match=r"'all/sub' both as a file and as a folder"):
        art.add_dir(tree, name="all")
    assert names(art) == ["all/sub"]


# -- text UTF-8 cannot store: refused when it is given, naming the file -----------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: gittrack.Artifact("ok", "mod\udce9l"), r"type.*surrogate.*position 3"),
        (lambda: gittrack.Artifact("ok", "model", description="caf\udce9"),
         r"description.*position 3"),
        (lambda: gittrack.Artifact("ok", "model", metadata={"a": "caf\udce9"}),
         r"'metadata\.a'.*position 3"),
    ],
)
def test_a_lone_surrogate_in_a_label_is_refused(make: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make()


def test_a_file_name_that_is_not_utf8_is_refused_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "ok.txt").write_text("x")
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as out:  # a latin-1 name
        out.write(b"x")
    art = gittrack.Artifact("d", "dataset")
    with pytest.raises(UsageError, match=r"'caf\\udce9\.txt'.*surrogate.*position 3"):
        art.add_dir(folder)
    with pytest.raises(UsageError, match=r"surrogate"):
        art.add_file(folder / "ok.txt", name="caf\udce9.txt")
    art.add_file(folder / "ok.txt")  # a refused call leaves the artifact as it was
    assert names(art) == ["ok.txt"]
