"""The hooks push to real remotes: the remote and clone fixtures of the sync tests."""

from __future__ import annotations

from tests.sync.conftest import bare_remote, make_clone

__all__ = ["bare_remote", "make_clone"]
