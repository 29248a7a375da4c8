"""Golden files: rendered output compared with a file kept in the repository."""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(path: Path, text: str) -> None:
    """``text`` equals ``path``'s content; with ``GITTRACK_UPDATE_GOLDEN`` set, ``path`` is
    rewritten first (review its diff before committing)."""
    if os.environ.get("GITTRACK_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
