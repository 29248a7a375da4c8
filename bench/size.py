"""Bytes in git of a run's history: its Parquet blobs, and every object of its ref.

Measured on the run of the ``log`` section (its own repository: an empty commit plus the run),
and on one more run whose ten values are full float64 noise (the worst case for compression).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from bench import competitors
from bench.common import Context, Target, clean_env, fmt_mb, fmt_ratio, git, run_worker, table
from bench.log_overhead import stored_bytes


def run_objects(repo: str | Path, ref: str) -> dict[str, int]:
    """Objects reachable from ``ref`` but not from ``HEAD``: count, raw bytes, bytes on disk."""
    oids = git(repo, "rev-list", "--objects", ref, "--not", "HEAD").split()
    oids = [o for o in oids if len(o) in (40, 64) and all(c in "0123456789abcdef" for c in o)]
    out = subprocess.run(
        ["git", "-C", str(repo), "cat-file",
         "--batch-check=%(objectname) %(objectsize) %(objectsize:disk)"],
        input="\n".join(oids) + "\n", capture_output=True, text=True, check=True,
        env=clean_env(),
    ).stdout
    raw = disk = count = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            count += 1
            raw += int(parts[1])
            disk += int(parts[2])
    return {"objects": count, "raw": raw, "disk": disk}


def parquet_blobs(repo: str | Path, ref: str) -> dict[str, int]:
    """The Parquet blobs of the run's latest checkpoint tree (``git ls-tree -r -l``)."""
    total = count = 0
    for line in git(repo, "ls-tree", "-r", "-l", ref).splitlines():
        meta, _, path = line.partition("\t")
        if path.endswith(".parquet") and path.startswith("history/"):
            total += int(meta.split()[3])
            count += 1
    return {"chunks": count, "bytes": total}


def count_objects(repo: str | Path) -> dict[str, int]:
    """``git count-objects -v`` of the whole repository, in bytes."""
    fields = {}
    for line in git(repo, "count-objects", "-v").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = int(value.strip())
    return {"loose": fields.get("size", 0) * 1024, "packed": fields.get("size-pack", 0) * 1024,
            "count": fields.get("count", 0), "in_pack": fields.get("in-pack", 0)}


def measure(repo: str | Path, ref: str) -> dict[str, Any]:
    result: dict[str, Any] = {"parquet": parquet_blobs(repo, ref)}
    result["loose"] = run_objects(repo, ref)
    result["repo_loose"] = count_objects(repo)
    git(repo, "gc", "--quiet")
    result["packed"] = run_objects(repo, ref)
    result["repo_packed"] = count_objects(repo)
    return result


def run(ctx: Context) -> None:
    runs = ctx.data.get("log", {})
    ours = runs.get("gittrack") or []
    if not ours:
        ctx.out("## size: skipped (the gittrack log run failed)")
        ctx.targets.append(Target("100,000 × 10 history < 10 MB in git", "not measured", None))
        return
    steps = int(ours[0]["steps"])
    ctx.out(f"## size in git of a {steps:,}-step × 10-key history")
    ctx.progress("size: measuring the run's objects")
    mixed = measure(ours[0]["repo"], ours[0]["ref"])
    ctx.progress(f"size: a {steps:,}-step run of full float64 noise")
    workdir = ctx.scratch("size-float64")
    res = run_worker("log", {"tracker": "gittrack", "steps": steps, "warmup": 0,
                             "precision": "float64", "workdir": str(workdir)},
                     cwd=workdir)
    worst = None if "error" in res else measure(res["repo"], res["ref"])
    if worst is None:
        ctx.out(f"  note: the float64 run failed: {res['error']}")
    rows = []
    for label, m in (("gittrack, 'mixed' values", mixed), ("gittrack, float64 noise", worst)):
        if m is None:
            continue
        rows.append([label, f"{m['parquet']['bytes'] / 1e6:.2f} MB ({m['parquet']['chunks']})",
                     f"{m['loose']['objects']}", fmt_mb(m["loose"]["raw"]),
                     fmt_mb(m["loose"]["disk"]), fmt_mb(m["packed"]["disk"]),
                     fmt_mb(m["repo_loose"]["loose"] + m["repo_loose"]["packed"]),
                     fmt_mb(m["repo_packed"]["packed"] + m["repo_packed"]["loose"])])
    ctx.out(table(["history", "parquet (chunks)", "objects", "raw", "on disk",
                   "after gc", "repo: count-objects", "after gc"], rows))
    ctx.out("  parquet = sum of the history/*.parquet blob sizes in the run's last tree; "
            "objects/raw/on disk = every object reachable from the run's ref and not from HEAD "
            "(all checkpoint commits, trees, blobs), raw size and zlib'd loose size as gittrack "
            "leaves them; after gc = the same objects after `git gc`; repo = `git count-objects "
            "-v` size + size-pack of the whole repository (one empty commit plus this run).")
    ours_bytes = mixed["loose"]["disk"]
    base_rows = [["gittrack (all objects on disk)", fmt_mb(ours_bytes), "1×", "measured"]]
    others = [("jsonl", "JSON lines (same rows)")]
    others += [(c.key, c.label) for c in competitors.COMPETITORS]
    for key, label in others:
        found = stored_bytes(runs.get(key) or [], steps)
        if found is None:
            continue
        n_bytes, how = found
        base_rows.append([label, fmt_mb(n_bytes), f"{fmt_ratio(n_bytes / ours_bytes)} gittrack",
                          how])
    ctx.out()
    ctx.out(table([f"store, for {steps:,} steps", "bytes", "ratio", "how"], base_rows))
    ctx.out("  competitors: every file in their output folder after finish (wandb: the offline "
            "run folder; MLflow: the store; DVCLive: its dir), same values and steps.")
    figures = [mixed["loose"]["disk"]] + ([worst["loose"]["disk"]] if worst else [])
    text = fmt_mb(mixed["loose"]["disk"]) + " mixed values"
    if worst:
        text += f", {fmt_mb(worst['loose']['disk'])} float64 noise"
    scale_ok = steps >= 100_000
    ctx.targets.append(Target(
        f"{steps:,} × 10 history < 10 MB in git" + ("" if scale_ok else " (quick: smaller)"),
        text + " (all of the run's objects, on disk)",
        all(b < 10e6 for b in figures),
    ))
