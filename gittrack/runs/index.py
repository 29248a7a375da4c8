"""A local cache of parsed run checkpoints, keyed by commit id.

Listing runs reads ``run.yaml``, ``config.yaml`` and ``summary.yaml`` of every run, and parsing
that YAML is most of the time it takes (about 0.37 s for 1,000 runs here; reading this cache
takes about 15 ms). A commit never changes, so an entry never goes stale: the cache only drops
entries of runs whose head has moved on. It lives in ``.git/gittrack/cache/`` (local only,
safe to delete), is rewritten whole with ``os.replace``, and is ignored when it cannot be read
or written (a read-only ``.git``). Only data that JSON holds exactly is cached; anything else
(dates or binary in a hand-edited YAML file) is parsed from git every time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gittrack.atomic import write_atomic
from gittrack.errors import FormatError, GittrackError, RepositoryError
from gittrack.git.repo import Repository, gittrack_dir
from gittrack.runs import store
from gittrack.runs.info import RunInfo
from gittrack.types import CommitId, RunId

VERSION = 1
_PARTS = ("info", "config", "summary")

ErrorHandler = Callable[[RunId, GittrackError], None]


def cache_path(repo: Repository) -> Path:
    return gittrack_dir(repo) / "cache" / f"checkpoints-v{VERSION}.json"


def load_checkpoints(
    repo: Repository, heads: Mapping[RunId, CommitId],
    on_error: ErrorHandler | None = None,
) -> dict[RunId, store.Checkpoint]:
    """The checkpoint at each head, from the cache or from git (then cached).

    A run that cannot be read raises its ``GittrackError``, or, with ``on_error``, is
    reported to it and left out.
    """
    path = cache_path(repo)
    cached = _read(path)
    found: dict[RunId, store.Checkpoint] = {}
    keep: dict[str, dict[str, Any]] = {}
    for run_id, commit in heads.items():
        entry = cached.get(commit)
        checkpoint = _from_entry(run_id, commit, entry) if entry is not None else None
        if checkpoint is None:
            checkpoint = _parse(repo, run_id, commit, on_error)
            if checkpoint is None:
                continue
            entry = _to_entry(checkpoint)
        found[run_id] = checkpoint
        if entry is not None:
            keep[commit] = entry
    if keep.keys() != cached.keys():
        _write(path, keep)
    return found


def _parse(
    repo: Repository, run_id: RunId, commit: CommitId, on_error: ErrorHandler | None
) -> store.Checkpoint | None:
    try:
        with store.reading(run_id):
            return store.load_checkpoint(repo, commit, with_resume=False, run_id=run_id)
    except GittrackError as exc:
        if on_error is None:
            raise
        on_error(run_id, exc)
        return None


def _from_entry(run_id: RunId, commit: CommitId, entry: Any) -> store.Checkpoint | None:
    """The cached checkpoint, if the entry passes the checks a parse would (an entry written
    by an older gittrack, or a hand-edited cache, is parsed again instead)."""
    if not isinstance(entry, dict) or not all(isinstance(entry.get(p), dict) for p in _PARTS):
        return None
    try:
        info = RunInfo.from_yaml(entry["info"], commit, run_id)
    except FormatError:
        return None
    return store.Checkpoint(commit=commit, info=info, config=entry["config"],
                            summary=entry["summary"], resume={})


def _to_entry(checkpoint: store.Checkpoint) -> dict[str, Any] | None:
    entry = {"info": checkpoint.info.as_dict(), "config": checkpoint.config,
             "summary": checkpoint.summary}
    return entry if _exact(entry) else None


def _exact(value: Any) -> bool:
    """Whether JSON gives ``value`` back unchanged (NaN and ±inf included: Python's json does)."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return True
    if kind is list:
        return all(_exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _exact(v) for k, v in value.items())
    return False


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    # ASCII JSON (surrogates escaped), dumps: json.dump is pure Python
    text = json.dumps({"version": VERSION, "entries": entries}, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("ascii"), error=RepositoryError)
    except (OSError, RepositoryError):
        return  # a read-only .git or a full disk: work without the cache
