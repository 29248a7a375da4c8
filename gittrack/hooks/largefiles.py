"""The pre-commit check that refuses large data files added to git: they belong in an
artifact (content-addressed, encrypted for private projects, downloaded only when used), not
in the code's history, where every clone carries them forever."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

from gittrack.errors import UsageError

DEFAULT_MAX = 5_000_000
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


@dataclasses.dataclass(frozen=True, slots=True)
class LargeFile:
    path: str
    size: int


def parse_size(text: str) -> int:
    """``5MB``, ``500k``, ``1GiB``, ``1000`` → bytes."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{text!r} is not a size: use e.g. 5MB, 500KB, 1GiB or a byte count")
    unit = (match.group(2) or "").lower().removesuffix("b")
    return int(float(match.group(1)) * _UNITS[unit])


def too_large(paths: Iterable[str], limit: int) -> list[LargeFile]:
    found = []
    for path in paths:
        try:
            size = Path(path).stat().st_size
        except OSError:
            continue  # deleted or renamed in this commit: nothing is added
        if size > limit:
            found.append(LargeFile(path, size))
    return found


def advice(found: LargeFile) -> str:
    """What to run instead: store the file as an artifact, keep it out of git."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(found.path).stem).strip("-.") or "data"
    code = (f'import gittrack; r = gittrack.init(job_type="upload"); '
            f'a = gittrack.Artifact({json.dumps(name)}, "dataset"); '
            f'a.add_file({json.dumps(found.path)}); r.log_artifact(a); r.finish()')
    return (f"{found.path} ({found.size / 1e6:.1f} MB) is too large for git; store it as an "
            f"artifact instead:\n    git rm --cached {shlex.quote(found.path)} && "
            f"echo {shlex.quote('/' + found.path)} >> .gitignore\n"
            f"    python -c {shlex.quote(code)}\n"
            f"  then read it with `gittrack artifact get {name}` or "
            f"run.use_artifact('{name}:latest')")
