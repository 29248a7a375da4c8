"""Many runs, fast: ``git fast-import`` writes them as a fetch from a busy team would bring them.

One real run is made with the API (``init``, 20 steps of 3 keys, ``finish``); its files are the
templates. Each made run has its own ``run.yaml`` (id, name, state, creation time, tags, group,
branch), ``config.yaml`` and ``summary.yaml``; its other files (the history chunk,
``resume.yaml``) are the template's (identical blobs are stored once, as git would store
them). 100,000 runs take about half a minute.

``make_runs(repo, 100_000)`` is used by the ``scale`` bench; tests use it at small counts.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gittrack.runs import ids, layout

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: run i is created i seconds later
STATES = ("finished", "finished", "finished", "failed", "crashed")
BRANCHES = ("main", "main", "feature/lr-sweep", "exp/augment")


_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, as gittrack.runs.ids


def run_id(i: int) -> str:
    """The id of run ``i``: its creation time then 16 characters derived from ``i``, so the
    same ``i`` always names the same run and listings show the highest ``i`` first."""
    import hashlib

    bits = int.from_bytes(hashlib.sha256(b"%d" % i).digest()[:10], "big")
    suffix = "".join(_ALPHABET[(bits >> (5 * k)) & 31] for k in reversed(range(16)))
    return str(ids.new_run_id(now=T0 + i))[:10] + suffix


def _template() -> dict[str, bytes]:
    import gittrack

    with tempfile.TemporaryDirectory(prefix="gittrack-template-") as tmp:
        subprocess.run(["git", "init", "-q", tmp], check=True)
        run = gittrack.init(repo=tmp, project="bench", name="run-0",
                            config={"lr": 0.01, "batch_size": 32, "seed": 0},
                            settings={"quiet": True})
        for step in range(20):
            run.log({"loss": 2.0 / (step + 1), "acc": 1 - 1 / (step + 2), "lr": 1e-3})
        run.finish()
        commit = run.commit
        assert commit is not None

        def git(*args: str) -> bytes:
            return subprocess.run(["git", "-C", tmp, *args], capture_output=True,
                                  check=True).stdout

        own = {layout.RUN_YAML, layout.CONFIG_YAML, layout.SUMMARY_YAML}
        paths = git("ls-tree", "-r", "--name-only", "-z", commit).decode().split("\0")
        return {path: git("show", f"{commit}:{path}") for path in paths
                if path and path not in own}


def _iso(seconds: float) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_files(i: int, code_commit: str | None = None) -> dict[str, bytes]:
    """``run.yaml``, ``config.yaml`` and ``summary.yaml`` of run ``i`` (made on
    ``code_commit``, if given)."""
    state = STATES[i % len(STATES)]
    created = T0 + i
    exit_code = {"finished": "0", "failed": "1", "crashed": "null"}[state]
    run_yaml = (
        f"format: {layout.FORMAT}\nid: {run_id(i)}\nname: run-{i:06d}\nproject: bench\n"
        f"group: group-{i % 100}\njob_type: train\ntags:\n- sweep\n- shard-{i % 8}\n"
        f"notes: null\nstate: {state}\ncreated_at: '{_iso(created)}'\n"
        f"updated_at: '{_iso(created + 60)}'\nended_at: '{_iso(created + 60)}'\n"
        f"duration: 60.0\nexit_code: {exit_code}\ncode:\n  commit: {code_commit or 'null'}\n"
        f"  branch: {BRANCHES[i % len(BRANCHES)]}\n  remote: null\n  dirty: false\n"
        "host: bench\nuser: bench\nos: Linux\npython: CPython 3.11\nexecutable: python\n"
        "program: train.py\nargs: []\ncwd: /bench\npid: 1\ngittrack_version: 0.1.0\n"
        "steps: 20\nmetrics: {}\n"
    )
    config = f"lr: {10 ** -(1 + i % 4)}\nbatch_size: {32 << (i % 3)}\nseed: {i}\n"
    summary = f"loss: {2.0 / (i % 97 + 1)!r}\nacc: {1 - 1 / (i % 89 + 2)!r}\nlr: 0.001\n"
    return {layout.RUN_YAML: run_yaml.encode(), layout.CONFIG_YAML: config.encode(),
            layout.SUMMARY_YAML: summary.encode()}


def _stream(count: int, start: int, shared: dict[str, bytes],
            code_commit: str | None = None) -> Iterator[bytes]:
    marks = {}
    for n, (path, data) in enumerate(shared.items(), start=1):
        marks[path] = n
        yield b"blob\nmark :%d\ndata %d\n%s\n" % (n, len(data), data)
    for i in range(start, start + count):
        files = run_files(i, code_commit)
        message = f"gittrack: run {run_id(i)} (made by bench.scale_data)".encode()
        when = int(T0) + i + 60
        parts = [
            b"commit %s\n" % layout.run_ref(ids.RunId(run_id(i))).encode(),
            b"committer bench <bench@localhost> %d +0000\n" % when,
            b"data %d\n%s\n" % (len(message), message),
        ]
        parts += [b"M 100644 :%d %s\n" % (mark, path.encode()) for path, mark in marks.items()]
        for path, data in files.items():
            parts.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
        yield b"".join(parts) + b"\n"


def make_runs(repo: str | os.PathLike[str], count: int, *, start: int = 0,
              pack_refs: bool = True, code_commit: str | None = None) -> list[str]:
    """Add runs ``start`` … ``start + count - 1`` to the git repository at ``repo`` (made with
    ``git init`` beforehand); returns their ids. ``pack_refs`` packs the refs afterwards, as
    ``git gc`` or a clone leaves them."""
    shared = _template()
    proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet",
                             "--force"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for chunk in _stream(count, start, shared, code_commit):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed in {repo}")
    if pack_refs:
        subprocess.run(["git", "-C", str(repo), "pack-refs", "--all"], check=True)
    return [run_id(i) for i in range(start, start + count)]


def _main() -> None:
    import sys
    import time

    path = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if not (path / ".git").exists():
        subprocess.run(["git", "init", "-q", str(path)], check=True)
    t0 = time.perf_counter()
    make_runs(path, count)
    print(f"{count:,} runs in {time.perf_counter() - t0:.1f} s: {path}")


if __name__ == "__main__":
    _main()
