"""gittrack.Artifact: what add_* accepts, what it refuses, and that a refusal changes nothing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

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


def test_add_dir_follows_links_to_files_and_folders(tree: Path, tmp_path: Path) -> None:
    """As W&B's add_dir does: a link counts as what it points at, stored under its own name."""
    (tmp_path / "outside.txt").write_text("o")
    (tmp_path / "shared" / "deep").mkdir(parents=True)
    (tmp_path / "shared" / "deep" / "s.txt").write_text("s")
    (tree / "link.txt").symlink_to(tmp_path / "outside.txt")
    (tree / "linked").symlink_to(tmp_path / "shared", target_is_directory=True)
    (tree / "sub" / "again").symlink_to(tmp_path / "shared", target_is_directory=True)
    art = gittrack.Artifact("d", "dataset")
    art.add_dir(tree, name="top")
    assert names(art) == ["top/a.txt", "top/link.txt", "top/linked/deep/s.txt",
                          "top/sub/again/deep/s.txt", "top/sub/b.txt"]
    planned = {p.name: p for p in art.planned if isinstance(p, PlannedFile)}
    assert Path(planned["top/link.txt"].source) == tree / "link.txt"
    assert Path(planned["top/linked/deep/s.txt"].source).read_text() == "s"


def test_add_dir_warns_about_what_it_cannot_store(tree: Path, tmp_path: Path) -> None:
    """Never a silent skip: broken links, loops and special files are named in a warning."""
    (tree / "broken.txt").symlink_to(tmp_path / "nowhere")
    (tree / "sub" / "loop").symlink_to(tree, target_is_directory=True)  # entering: no end
    (tree / "self").symlink_to(tree / "self")  # a link to itself (ELOOP)
    os.mkfifo(tree / "pipe")  # reading it would block forever
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tree / "sock"))
        art = gittrack.Artifact("d", "dataset")
        with pytest.warns(gittrack.GittrackWarning) as caught:
            art.add_dir(tree)
    assert names(art) == ["a.txt", "sub/b.txt"]
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "left out 5 entries" in text
    for what in ("broken.txt (a broken symbolic link)",
                 "sub/loop (a loop back to a folder above it)", "self (a broken symbolic link)",
                 "pipe (a FIFO)", "sock (a socket)"):
        assert what in text, text
    assert caught[0].filename == __file__  # points at the caller's line


def test_add_dir_of_a_linked_root_and_a_loop_at_the_top(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "root-link").symlink_to(tree, target_is_directory=True)
    (tree / "up").symlink_to(tmp_path, target_is_directory=True)  # tmp_path holds tree
    art = gittrack.Artifact("d", "dataset")
    with pytest.warns(gittrack.GittrackWarning, match=r"up/data \(a loop back to a folder"):
        art.add_dir(tmp_path / "root-link")
    assert "a.txt" in names(art) and "sub/b.txt" in names(art)


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


@pytest.mark.parametrize("uri", [
    "https://alice:TOKEN123@host/f",
    "https://TOKEN123@host/f",
    "https://bucket.s3.amazonaws.com/f?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK%2F1"
    "&X-Amz-Signature=TOKEN123",
    "https://storage.googleapis.com/b/f?X-Goog-Signature=TOKEN123",
    "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=TOKEN123",
    "https://host/f?access_token=TOKEN123",
    "s3://key:TOKEN123@bucket/f",
    # a fragment and secret-looking names other than tokens (issue 8)
    "http://127.0.0.1:18765/f#access_token=TOKEN123",
    "http://127.0.0.1:18765/f?sessionid=TOKEN123",
    "https://host/f?apikey=TOKEN123&v=1",
    "https://host/f?x-auth=TOKEN123",
])
def test_a_reference_with_credentials_is_refused(uri: str) -> None:
    """The manifest (with each reference's URL) is pushed unencrypted with the git refs."""
    art = gittrack.Artifact("d", "dataset")
    with pytest.raises(UsageError, match=r"credentials") as raised:
        art.add_reference(uri)
    assert "TOKEN123" not in str(raised.value)
    assert len(art) == 0


def test_names_and_texts_that_cannot_be_stored_are_refused(tmp_path: Path) -> None:
    """A file name read from a latin-1 file system holds a lone surrogate: no UTF-8 string
    can store it, and pyarrow failed with UnicodeEncodeError only when logging."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "ok.txt").write_text("y")
    os.close(os.open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), os.O_CREAT | os.O_WRONLY))
    art = gittrack.Artifact("d", "dataset")
    with pytest.raises(UsageError, match=r"caf\\udce9.txt.*UTF-8"):
        art.add_dir(folder)
    with pytest.raises(UsageError, match=r"UTF-8"):
        art.add_file(folder / "ok.txt", name="caf\udce9")
    assert len(art) == 0
    with pytest.raises(UsageError):
        gittrack.Artifact("d", "data\udce9")
    with pytest.raises(UsageError):
        gittrack.Artifact("d", "dataset", description="caf\udce9")


def test_a_reference_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """A reference's URI is stored as text: a path or ``file://`` URL from a latin-1 file
    system is refused naming it (it raised UnicodeEncodeError at logging, or was accepted
    when it did not exist)."""
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkdir(folder)
    with open(folder + b"/f.bin", "wb") as out:
        out.write(b"x")
    art = gittrack.Artifact("d", "dataset")
    for uri in (os.fsdecode(folder + b"/f.bin"), "file://" + os.fsdecode(folder + b"/f.bin"),
                "file://" + os.fsdecode(b"/nowhere\xe9"), "s3://bucket/caf\udce9"):
        with pytest.raises(UsageError, match=r"caf\\xe9.*not valid UTF-8|nowhere\\xe9"):
            art.add_reference(uri)
    assert len(art) == 0
