"""A repository's artifact storage, put together: its store, caches, privacy and keys.

A project is private iff its keyring (``.gittrack/keys/``) exists, unless the committed
``.gittrack/config.yaml`` says ``privacy: public``. Keys are unlocked only when a blob must be
named or decrypted, so listing artifacts or reading cached files never asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gittrack.errors import RepositoryError
from gittrack.git.repo import Repository, gittrack_dir, work_tree
from gittrack.storage.config import ProjectConfig, load_config
from gittrack.storage.vault import BlobVault, KeySource

if TYPE_CHECKING:
    from gittrack.crypto.keys import ProjectKeys


def is_private(repo: Repository, config: ProjectConfig) -> bool:
    if config.privacy is not None:
        return config.privacy == "private"
    from gittrack.crypto.keys import Keyring

    if work_tree(repo) is None:
        raise RepositoryError(
            "artifacts need a work tree: the project's keys live in .gittrack/keys of the "
            "checked-out branch (a bare repository has none)"
        )
    return Keyring.for_repo(repo).exists()


def unlock(repo: Repository) -> ProjectKeys:
    """The project keys, opened with the user's identities (``KeyMissingError`` otherwise)."""
    from gittrack.crypto.keys import Keyring, load_user_identities

    return Keyring.for_repo(repo).unlock(load_user_identities())


def open_storage(
    repo: Repository, *, keys: ProjectKeys | None = None, workers: int | None = None,
) -> BlobVault:
    """The artifact storage of ``repo`` as configured (``keys`` given: private with those)."""
    config = load_config(repo)
    source: KeySource | None = None
    if keys is not None:
        given = keys
        source = lambda: given  # noqa: E731
        private = True
    else:
        private = is_private(repo, config)
        if private or has_keyring(repo):  # public by config: keys still read old blobs
            source = lambda: unlock(repo)  # noqa: E731
    return BlobVault.create(
        url=config.url, options=config.options, state_dir=gittrack_dir(repo), keys=source,
        private=private, reference_options=_reference_options(config), workers=workers,
    )


def has_keyring(repo: Repository) -> bool:
    """Whether the work tree holds the project's keys (a bare repository holds none)."""
    from gittrack.crypto.keys import Keyring

    return work_tree(repo) is not None and Keyring.for_repo(repo).exists()


def _reference_options(config: ProjectConfig) -> Any:
    """References on the project's own store protocol use its options (endpoint,
    credentials); others get fsspec's defaults (the environment's credentials)."""
    protocol = _protocol(config.url)

    def options_for(uri: str) -> Mapping[str, Any]:
        return config.options if _protocol(uri) == protocol else {}

    return options_for


def _protocol(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "file"
