"""The storage tests share the artifact tests' backends (a local folder, fsspec's memory
filesystem and a moto S3 server) and repositories."""

from __future__ import annotations

from tests.artifacts.conftest import (  # noqa: F401  (fixtures)
    git_repo,
    location,
    make_storage,
    privacy,
    private_repo,
    project_keys,
)
