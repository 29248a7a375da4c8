"""``python -m bench [--quick] [--only SECTIONS] [--repeats N] [--keep]``."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import (
    artifacts,
    history,
    hooks,
    integrations,
    listing,
    log_overhead,
    media,
    memory,
    runs,
    scale,
    size,
    sync,
    ui,
    wide,
)
from bench.common import ROOT, VALUES_NOTE, Context, dist_version, table

# Each section is a module of bench with one entry point, ``run(ctx)``; run in this order.
SECTIONS = {
    "log": log_overhead.run,      # also finish()
    "size": size.run,             # needs log
    "memory": memory.run,
    "runs": runs.run,
    "history": history.run,       # needs memory (reads its 1M-step run)
    "wide": wide.run,             # issue 8: history() of a 10,000-key run vs pyarrow
    "artifacts": artifacts.run,   # issue 3: put/get, local and S3 (moto), vs floor
    "sync": sync.run,             # issue 4: push/pull of 1,000 runs vs plain git
    "scale": scale.run,           # issue 10: long runs, 100,000 runs, large artifacts
    "media": media.run,           # issue 11: images, the system sampler, console capture
    "integrations": integrations.run,  # issue 12: Lightning with gittrack / W&B / no logger
    "listing": listing.run,       # issue 13: runs --branch / --sort over 10,000 runs
    "hooks": hooks.run,           # issue 13: pre-push hook overhead on git push, per mode
    "ui": ui.run,                 # issue 14: downsampling for the web UI's charts
}


_ISSUE_OF = {"artifacts": "3", "sync": "4", "wide": "8", "scale": "10", "media": "11",
             "integrations": "12", "listing": "13", "hooks": "13", "ui": "14"}
"""The issue whose targets a section measures (the others: issue 2)."""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _mem_total() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "?"


def _code_version() -> str:
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                "gittrack"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return sha + (" + uncommitted changes under gittrack/" if dirty else "")


def _header(ctx: Context) -> None:
    import gittrack

    git_version = subprocess.run(["git", "--version"], capture_output=True,
                                 text=True).stdout.strip()
    ctx.out(f"# gittrack benchmark{' (--quick: reduced scale)' if ctx.quick else ''}")
    ctx.out()
    ctx.out(f"date:     {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    ctx.out(f"machine:  {platform.system()} {platform.release()} {platform.machine()}, "
            f"nproc {os.cpu_count()} ({_cpu_model()}), {_mem_total()} RAM")
    ctx.out(f"python:   {platform.python_version()}; {git_version}")
    ctx.out(f"gittrack: {gittrack.__version__} at {_code_version()}")
    ctx.out("packages: " + ", ".join(
        f"{d} {dist_version(d, 'not installed')}"
        for d in ("pyarrow", "pygit2", "numpy", "pandas", "wandb", "mlflow", "dvclive")))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    ctx.out(f"load avg: {load} at start (the machine may be shared)")
    ctx.out(f"values:   {VALUES_NOTE}")
    ctx.out()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run at reduced scale (1-2 minutes); targets are still "
                             "printed but are judged on the smaller figures")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections (default all): {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=None,
                        help="measured runs per tracker in the log section (default 3; "
                             "--quick: 1)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    tmp = Path(tempfile.mkdtemp(prefix="gittrack-bench-"))
    ctx = Context(quick=args.quick, repeats=max(1, repeats), tmp=tmp, targets=[], data={})
    started = time.perf_counter()
    try:
        _header(ctx)
        for name in SECTIONS:
            if name in chosen:
                load = os.getloadavg()[0]
                SECTIONS[name](ctx)
                ctx.out(f"  (load avg, 1 min: {load:.2f} before this section, "
                        f"{os.getloadavg()[0]:.2f} after)")
                ctx.out()
        issues = ["2"] * any(s not in _ISSUE_OF for s in chosen) + sorted(
            {_ISSUE_OF[s] for s in chosen if s in _ISSUE_OF}, key=int)
        ctx.out(f"## targets (issue{'s' * (len(issues) > 1)} {' and '.join(issues)})")
        ctx.out(table(["target", "measured", "verdict"],
                      [[t.name, t.figure, t.verdict] for t in ctx.targets]))
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        ctx.out()
        ctx.out(f"load avg at end: {load}; benchmark took {time.perf_counter() - started:.0f} s")
    finally:
        if args.keep:
            ctx.progress(f"scratch kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
