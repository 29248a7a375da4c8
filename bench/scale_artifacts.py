"""Section ``scale`` (issue 10), part: large artifacts: 1,000 versions, 1,000,000 files.

One repository holds ``hist``, an artifact of 1,000 versions (2 files each), and ``wide``, one
version of 1,000,000 files (``--quick``: 100 versions, 100,000 files). Both are written by
gittrack's own path below hashing (``tests/helpers/big_artifacts``: the bytes through
``put_files``, each version through ``commit_version``, what ``log_artifact`` does after
hashing); the files of ``wide`` share one blob, so a million of them take seconds to make.

Each command runs in a fresh process (one warm-up, then the median), beside the plain git or
pyarrow command doing the same underlying work in the same repository: listing the refs,
walking the chain and reading each ``artifact.yaml`` (``git log | git cat-file --batch``),
reading one version's ``artifact.yaml``, reading the head of the manifest or the row of one
file with pyarrow (``pq.read_table(filters=...)``, which prunes row groups by statistics too).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    Context,
    Target,
    fmt_ratio,
    fmt_s,
    git,
    make_repo,
    table,
    time_command,
)

_PYARROW_HEAD = """
import subprocess, sys, pyarrow as pa, pyarrow.parquet as pq
raw = subprocess.run(["git", "-C", sys.argv[1], "cat-file", "blob", sys.argv[2]],
                     capture_output=True, check=True).stdout
f = pq.ParquetFile(pa.BufferReader(raw))
rows = next(f.iter_batches(batch_size=1000)).to_pylist()
print(f.metadata.num_rows, len(rows))
"""
_PYARROW_ONE = """
import subprocess, sys, pyarrow as pa, pyarrow.parquet as pq
raw = subprocess.run(["git", "-C", sys.argv[1], "cat-file", "blob", sys.argv[2]],
                     capture_output=True, check=True).stdout
print(pq.read_table(pa.BufferReader(raw), filters=[("path", "==", sys.argv[3])]).to_pylist())
"""
_API_ONE = """
import sys, gittrack
print(gittrack.Api(repo=sys.argv[1]).artifact("wide").path(sys.argv[2], sys.argv[3]))
"""
_API_VERSIONS = """
import sys, gittrack
print(len(gittrack.Api(repo=sys.argv[1]).artifacts("hist")))
"""


def run(ctx: Context) -> None:
    count_versions, count_files = (100, 100_000) if ctx.quick else (1_000, 1_000_000)
    ctx.out(f"## scale: large artifacts: {count_versions:,} versions, {count_files:,} files")
    from tests.helpers.big_artifacts import file_name, many_files, many_versions

    repo = make_repo(ctx.scratch("scale-artifacts", "repo"))
    scratch = ctx.scratch("scale-artifacts", "sources")
    ctx.progress(f"scale artifacts: {count_versions:,} versions, one of {count_files:,} files")
    t0 = time.perf_counter()
    many_versions(repo, "hist", count_versions, scratch=scratch)
    made_versions = time.perf_counter() - t0
    number = count_files * 3 // 4 + 17  # in neither the first nor the last row group
    one = file_name(number)
    t0 = time.perf_counter()
    many_files(repo, "wide", count_files, scratch=scratch, stored=[number])
    made_files = time.perf_counter() - t0
    manifest_bytes = int(git(repo, "cat-file", "-s",
                             "refs/gittrack/artifacts/wide:manifest.parquet"))
    ctx.out(f"  made {count_versions:,} versions in {made_versions:.1f} s and one version of "
            f"{count_files:,} files in {made_files:.1f} s (commit_version; every file its own "
            f"sha256: a manifest of {manifest_bytes / 1e6:.1f} MB)")
    out = ctx.scratch("scale-artifacts", "out")
    cold = _cold_lookup(repo, one, out / "cold")
    refs = "refs/gittrack/artifacts/"
    manifest = f"{refs}wide:manifest.parquet"
    walk = (f"git -C {repo} log --format=%H:artifact.yaml {refs}hist | "
            f"git -C {repo} cat-file --batch")
    deepest = f"{refs}hist~{count_versions - 1}:artifact.yaml"
    by_git = ["git", "-C", str(repo)]
    head = ("pyarrow: row count + first 1,000 rows", _python(_PYARROW_HEAD, repo, manifest))
    find = ("pyarrow: read_table(filters=path==FILE)", _python(_PYARROW_ONE, repo, manifest, one))
    chain = ("git log | cat-file --batch (each artifact.yaml)", ["sh", "-c", walk])
    cases: list[tuple[str, list[str], tuple[str, list[str]]]] = [
        ("artifact ls", _gittrack(repo, "ls"),
         ("git for-each-ref", [*by_git, "for-each-ref", refs])),
        (f"artifact ls hist ({count_versions:,} versions)", _gittrack(repo, "ls", "hist"), chain),
        ("Api().artifacts('hist')", _python(_API_VERSIONS, repo), chain),
        (f"artifact show hist:v0 (deepest of {count_versions:,})",
         _gittrack(repo, "show", "hist:v0"),
         ("git cat-file -p REF~N:artifact.yaml", [*by_git, "cat-file", "-p", deepest])),
        (f"artifact show wide ({count_files:,} files)", _gittrack(repo, "show", "wide"), head),
        (f"artifact show wide --json ({count_files:,} files)",
         _gittrack(repo, "show", "wide", "--json"), head),
        (f"artifact get wide FILE (1 of {count_files:,})",
         _gittrack(repo, "get", "wide", one, "-o", str(out / "cli")), find),
        (f"Api().artifact('wide').path(FILE) (1 of {count_files:,})",
         _python(_API_ONE, repo, one, out / "api"), find),
    ]
    repeats = max(3, ctx.repeats)
    rows: list[list[str]] = []
    baselines: dict[tuple[str, ...], dict[str, Any]] = {}
    for label, argv, (base_label, base_argv) in cases:
        ctx.progress(f"scale artifacts: {label}")
        measured = time_command(argv, repeats=repeats)
        if tuple(base_argv) not in baselines:
            baselines[tuple(base_argv)] = time_command(base_argv, repeats=repeats)
        base = baselines[tuple(base_argv)]
        rows.append(_row(label, measured, base, base_label))
        _target(ctx, label, measured, base, base_label, count_versions == 1_000)
    rows.append(["artifact get wide FILE, first lookup (manifest inflated from git)",
                 fmt_s(cold.get("median")), "", "once per version and machine"])
    startup = time_command([sys.executable, "-m", "gittrack", "--version"], repeats=repeats)
    rows.append(["python -m gittrack --version (for scale)", fmt_s(startup.get("median")),
                 "", ""])
    ctx.out(table(["command", "median wall", "baseline", "ratio"], rows))
    ctx.out("  Fresh processes (interpreter start included), median of "
            f"{repeats} after a warm-up; the file fetched by `get` is a few bytes, already "
            "in place after the warm-up (verified, not copied again): the figure is the "
            "finding of the file, not the bytes. `show` lists the first 1,000 files. The "
            "warm-up leaves the inflated manifest in .git/gittrack/cache/manifests (as any "
            "first lookup does); the 'first lookup' row is one run with that copy removed.")
    ctx.out()


def _cold_lookup(repo: Path, one: str, out: Path) -> dict[str, Any]:
    """``artifact get`` of one file with no local copy of the manifest (one run)."""
    shutil.rmtree(repo / ".git" / "gittrack" / "cache" / "manifests", ignore_errors=True)
    return time_command(_gittrack(repo, "get", "wide", one, "-o", str(out)), repeats=1)


def _gittrack(repo: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gittrack", "-C", str(repo), "artifact", *args]


def _python(script: str, *args: str | Path) -> list[str]:
    return [sys.executable, "-c", script, *map(str, args)]


def _row(label: str, measured: dict[str, Any], base: dict[str, Any],
         base_label: str) -> list[str]:
    if "error" in measured:
        return [label, "FAILED: " + measured["error"], "", ""]
    base_s = base.get("median")
    ratio = f"{fmt_ratio(measured['median'] / base_s)}" if base_s else "-"
    return [label, fmt_s(measured["median"]), f"{fmt_s(base_s)} ({base_label})", ratio]


def _target(ctx: Context, label: str, measured: dict[str, Any], base: dict[str, Any],
            base_label: str, full: bool) -> None:
    name = f"`{label}` < 1 s" + ("" if full else " (quick: reduced scale)")
    if "error" in measured:
        ctx.targets.append(Target(name, "command failed: " + measured["error"], False))
        return
    figure = f"{fmt_s(measured['median'])} ({base_label} {fmt_s(base.get('median'))})"
    ctx.targets.append(Target(name, figure, measured["median"] < 1.0))
