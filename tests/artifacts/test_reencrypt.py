"""Key rotation with re-encryption, and interop of stored blobs with the `age` command line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

import gittrack
from gittrack.artifacts.publish import log_artifact
from gittrack.artifacts.reencrypt import reencrypt_all, referenced_blobs
from gittrack.artifacts.view import ArtifactVersion
from gittrack.crypto.age import generate_identity
from gittrack.crypto.keys import Keyring, ProjectKeys, load_user_identities
from gittrack.errors import StorageError
from gittrack.storage import config
from gittrack.storage.project import open_storage, unlock
from tests.helpers.cli import CliResult
from tests.helpers.storage import Location, old_file, sha
from tests.helpers.tools import require


def log_two_versions(repo: pygit2.Repository, tmp_path: Path) -> None:
    for content in (b"one", b"two"):
        art = gittrack.Artifact("data", "dataset")
        art.add_file(old_file(tmp_path / "src" / "x.bin", content))
        art.add_file(old_file(tmp_path / "src" / "shared.bin", b"shared"))
        log_artifact(repo, art, producer=None)


def rotate(repo: pygit2.Repository) -> tuple[ProjectKeys, ProjectKeys]:
    """Add a second member, then remove them: the project key rotates."""
    keyring = Keyring.for_repo(repo)
    identities = load_user_identities()
    keyring.add_member("leaver", generate_identity()[1], identities)
    old = keyring.unlock(identities)
    return old, keyring.remove_member("leaver", identities)


def stored_names(repo: pygit2.Repository) -> set[str]:
    return {info.name for info in open_storage(repo).store.iter_blobs()}


def fresh_download(repo: pygit2.Repository, spec: str, out: Path) -> bytes:
    shutil.rmtree(Path(repo.path) / "gittrack" / "cache", ignore_errors=True)
    return (ArtifactVersion.resolve(repo, spec).download(out) / "x.bin").read_bytes()


def test_rotation_rewrites_every_blob(private_repo: pygit2.Repository, location: Location,
                                      tmp_path: Path) -> None:
    config.save_storage(private_repo, location[0], location[1], local=True)
    log_two_versions(private_repo, tmp_path)
    old, new = rotate(private_repo)
    digests = [sha(b"one"), sha(b"two"), sha(b"shared")]
    assert stored_names(private_repo) == {old.blob_name(d) for d in digests}
    report = reencrypt_all(private_repo, old, new)
    assert (report.rewritten, report.current, report.deleted, report.missing) == (3, 0, 3, ())
    assert stored_names(private_repo) == {new.blob_name(d) for d in digests}
    assert fresh_download(private_repo, "data:v0", tmp_path / "v0") == b"one"
    assert fresh_download(private_repo, "data:v1", tmp_path / "v1") == b"two"
    again = reencrypt_all(private_repo, None, new)
    assert (again.rewritten, again.current, again.deleted) == (0, 3, 0)


def test_the_old_key_cannot_read_rewritten_blobs(private_repo: pygit2.Repository,
                                                 tmp_path: Path) -> None:
    from gittrack.crypto.age import decrypt_file
    from gittrack.errors import DecryptionError

    log_two_versions(private_repo, tmp_path)
    old, new = rotate(private_repo)
    reencrypt_all(private_repo, old, new)
    storage = open_storage(private_repo)
    blob = new.blob_name(sha(b"one"))
    storage.store.get_file(blob, tmp_path / "enc")
    with pytest.raises(DecryptionError):
        decrypt_file(tmp_path / "enc", tmp_path / "plain", old.identities[:1])
    assert not (tmp_path / "plain").exists()


def test_an_interrupted_run_is_finished_by_running_again(
    private_repo: pygit2.Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_two_versions(private_repo, tmp_path)
    old, new = rotate(private_repo)
    storage = open_storage(private_repo, keys=new, workers=1)
    real = storage.store.put_file
    calls: list[Any] = []

    def fail_second(name: str, path: Path) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise StorageError("network down")
        real(name, path)

    monkeypatch.setattr(storage.store, "put_file", fail_second)
    with pytest.raises(StorageError, match=r"network down"):
        reencrypt_all(private_repo, old, new, storage=storage)
    report = reencrypt_all(private_repo, None, new)
    assert report.rewritten == 2 and report.current == 1
    assert fresh_download(private_repo, "data:v0", tmp_path / "v0") == b"one"


def test_without_reencrypt_old_blobs_stay_readable(private_repo: pygit2.Repository,
                                                   tmp_path: Path) -> None:
    log_two_versions(private_repo, tmp_path)
    rotate(private_repo)
    art = gittrack.Artifact("data", "dataset")
    art.add_file(old_file(tmp_path / "src" / "x.bin", b"three"))
    v2 = log_artifact(private_repo, art, producer=None)
    assert v2.files()[0].blob == unlock(private_repo).blob_name(sha(b"three"))
    assert fresh_download(private_repo, "data:v0", tmp_path / "v0") == b"one"


def test_referenced_blobs_skip_references_and_plaintext(git_repo: pygit2.Repository,
                                                        tmp_path: Path) -> None:
    art = gittrack.Artifact("public", "dataset")
    art.add_file(old_file(tmp_path / "a", b"a"))
    art.add_reference(old_file(tmp_path / "b", b"b"))
    log_artifact(git_repo, art, producer=None)
    assert referenced_blobs(git_repo) == {}


def test_keys_rm_reencrypt_and_the_artifact_command(
    private_repo: pygit2.Repository, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    log_two_versions(private_repo, tmp_path)
    keyring = Keyring.for_repo(private_repo)
    keyring.add_member("leaver", generate_identity()[1], load_user_identities())
    result = cli("keys", "rm", "leaver", "--reencrypt")
    assert result.exit_code == 0, result.stderr
    new = unlock(private_repo)
    assert stored_names(private_repo) == {new.blob_name(sha(c)) for c in (b"one", b"two",
                                                                         b"shared")}
    again = cli("artifact", "reencrypt")
    assert again.exit_code == 0 and "re-encrypted 0 blob(s)" in again.stdout


def test_a_stored_blob_decrypts_with_the_age_command_line(private_repo: pygit2.Repository,
                                                          tmp_path: Path) -> None:
    age = require("age")  # skips on a developer machine without it, fails in CI
    log_two_versions(private_repo, tmp_path)
    keys = unlock(private_repo)
    identity = tmp_path / "project-identity.txt"
    identity.write_text(str(keys.identities[0]) + "\n")
    storage = open_storage(private_repo)
    storage.store.get_file(keys.blob_name(sha(b"one")), tmp_path / "blob.age")
    plain = subprocess.run([age, "-d", "-i", str(identity), str(tmp_path / "blob.age")],
                           capture_output=True, check=True).stdout
    assert plain == b"one"
