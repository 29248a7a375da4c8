"""Section ``scale`` (issue 10), part: no-op push and pull of 100,000 runs, pulling 10,000.

A repository of 100,000 runs (10,000 with ``--quick``) made by ``bench.scale_data`` (packed
refs, as after ``git gc`` or a clone), pushed to a bare remote by path. Each gittrack command
runs in a fresh process (interpreter start and imports included; bytecode cached, as after
``pip install``), beside the plain git command doing the same underlying work in the same run:

- first push: ``gittrack push origin`` against ``git push`` of ``refs/gittrack/*`` to another
  fresh bare remote (one of each: informative, no target).
- no-op push (nothing changed): ``gittrack push`` against ``git push --atomic`` of the runs'
  glob (what gittrack would run) and ``git ls-remote`` of ``refs/gittrack/*`` (the listing any
  sync of these refs reads first); median of ``repeats`` after a warm-up.
- no-op pull in a clone that has pulled: ``gittrack pull`` against ``git fetch`` of
  ``+refs/gittrack/*:refs/gittrack/*``.
- 10,000 new runs (1,000) made in another copy and pushed; then ``gittrack pull`` in one copy
  of the clone against ``git fetch`` of the same refspec in an identical copy, the order of the
  two sides alternating between repeats; wall time and CPU time (the process and its git
  children) are both shown, the target judged on wall time.

The remote's refs are packed after the first push (``git pack-refs --all``, as a host's
maintenance leaves them): a bare repository that received 100,000 refs by push keeps a file
per ref, and ``git ls-remote`` alone took 2.7 s on it. The no-op push is measured against
such a remote too, for the record.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    Context,
    Target,
    clean_env,
    fmt_ratio,
    fmt_s,
    git,
    run_command,
    table,
)

NOOP_TARGET_S = 0.5
PULL_RATIO_TARGET = 1.2
GLOB = "+refs/gittrack/*:refs/gittrack/*"


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system) of the command and the processes it waited
    for (its git children): the second is disturbed less by a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run_command(argv, env=clean_env(env))
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))


def _count(repo: Path, prefix: str) -> int:
    return len(git(repo, "for-each-ref", "--format=%(refname)", prefix).splitlines())


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    run_command(["cp", "-a", str(src), str(dst)])
    return dst


class _Bench:
    def __init__(self, ctx: Context, runs: int, new: int) -> None:
        self.ctx = ctx
        self.runs = runs
        self.new = new
        self.root = ctx.scratch("scale_sync")
        self.repeats = max(3, ctx.repeats)
        # Bytecode caching on (this machine may set PYTHONDONTWRITEBYTECODE).
        self.env = {"PYTHONDONTWRITEBYTECODE": "",
                    "PYTHONPYCACHEPREFIX": str(ctx.scratch("scale_sync", "pycache"))}
        self.rows: list[list[str]] = []

    def gt(self, repo: Path, *args: str) -> list[str]:
        return [sys.executable, "-m", "gittrack", "-C", str(repo), *args]

    def pair(self, label: str, mine: list[str], theirs: list[str], *, repeats: int,
             floor: list[str] | None = None) -> tuple[float, float, float]:
        """Both commands, warmed up once, then ``repeats`` times alternating; a table row."""
        for argv in (mine, theirs, *([floor] if floor else [])):
            _timed(argv, self.env)
        samples: dict[str, list[tuple[float, float]]] = {"mine": [], "theirs": [], "floor": []}
        for i in range(repeats):
            order = [("mine", mine), ("theirs", theirs)]
            if floor:
                order.append(("floor", floor))
            for side, argv in order if i % 2 == 0 else order[::-1]:
                samples[side].append(_timed(argv, self.env))
        wall, cpu = _median(samples["mine"])
        git_wall, git_cpu = _median(samples["theirs"])
        row = [label, fmt_s(wall), fmt_s(git_wall), fmt_ratio(wall / git_wall),
               f"{fmt_s(cpu)} / {fmt_s(git_cpu)}"]
        if floor:
            row.append(fmt_s(_median(samples["floor"])[0]))
        self.rows.append(row + [""] * (6 - len(row)))
        return wall, git_wall, cpu

    def run(self) -> None:
        from bench.scale_data import make_runs

        ctx, n, new = self.ctx, self.runs, self.new
        src = self.root / "src"
        if src.exists():
            shutil.rmtree(src)
        run_command(["git", "init", "-q", str(src)])
        ctx.progress(f"scale_sync: making {n:,} runs")
        make_runs(src, n)
        remote, plain = self.root / "remote.git", self.root / "plain.git"
        for bare in (remote, plain):
            if bare.exists():
                shutil.rmtree(bare)
            run_command(["git", "init", "-q", "--bare", str(bare)])
        git(src, "remote", "add", "origin", str(remote))
        git(src, "remote", "add", "plain", str(plain))

        ctx.progress("scale_sync: first push")
        first = _timed(self.gt(src, "push", "origin"), self.env)
        first_git = _timed(["git", "-C", str(src), "push", "-q", "plain", GLOB], self.env)
        self.rows.append([f"first push of {n:,} runs (once)", fmt_s(first[0]),
                          fmt_s(first_git[0]), fmt_ratio(first[0] / first_git[0]),
                          f"{fmt_s(first[1])} / {fmt_s(first_git[1])}", ""])
        loose = self.root / "remote-loose.git"
        _copy(remote, loose)
        git(remote, "pack-refs", "--all")

        ctx.progress("scale_sync: no-op push and pull")
        ls = ["git", "-C", str(src), "ls-remote", "--refs", str(remote), "refs/gittrack/*"]
        push_wall, _, push_cpu = self.pair(
            "no-op push", self.gt(src, "push", "origin"),
            ["git", "-C", str(src), "push", "--porcelain", "--atomic", "origin",
             "refs/gittrack/runs/*:refs/gittrack/runs/*"], repeats=self.repeats, floor=ls)
        pull_wall, _, pull_cpu = self.pair(
            "no-op pull", self.gt(src, "pull", "origin"),
            ["git", "-C", str(src), "fetch", "-q", "origin", GLOB], repeats=self.repeats,
            floor=ls)
        git(src, "remote", "add", "loose", str(loose))
        # runs go only to remotes enabled for gittrack (origin, the first, by default)
        git(src, "config", "remote.origin.gittrack", "true")
        git(src, "config", "remote.loose.gittrack", "true")
        run_command(self.gt(src, "push", "loose"), env=clean_env(self.env))  # learn its URL
        self.pair("no-op push, remote refs loose", self.gt(src, "push", "loose"),
                  ["git", "-C", str(src), "push", "--porcelain", "--atomic", "loose",
                   "refs/gittrack/runs/*:refs/gittrack/runs/*"], repeats=1,
                  floor=["git", "-C", str(src), "ls-remote", "--refs", str(loose),
                         "refs/gittrack/*"])

        ctx.progress(f"scale_sync: {new:,} new runs pushed from another clone")
        writer = _copy(src, self.root / "writer")
        make_runs(writer, new, start=n)
        _timed(self.gt(writer, "push", "origin"), self.env)

        ctx.progress(f"scale_sync: pulling {new:,} new runs")
        pulls: list[tuple[float, float]] = []
        fetches: list[tuple[float, float]] = []
        ok_counts = True
        rounds = 1 if not ctx.quick and ctx.repeats <= 1 else 3
        for i in range(rounds):
            mine, theirs = _copy(src, self.root / "a"), _copy(src, self.root / "b")
            sides = [("gittrack", mine), ("git", theirs)]
            for side, repo in sides if i % 2 == 0 else sides[::-1]:
                if side == "gittrack":
                    pulls.append(_timed(self.gt(repo, "pull", "origin"), self.env))
                else:
                    fetches.append(_timed(["git", "-C", str(repo), "fetch", "-q", "origin",
                                           GLOB], self.env))
            ok_counts &= _count(mine, "refs/gittrack/") == n + new == _count(theirs,
                                                                             "refs/gittrack/")
            ok_counts &= _count(mine, "refs/gittrack-remotes/origin/") == n + new
        wall, cpu = _median(pulls)
        git_wall, git_cpu = _median(fetches)
        self.rows.append([f"pull of {new:,} new runs (median of {rounds})", fmt_s(wall),
                          fmt_s(git_wall), fmt_ratio(wall / git_wall),
                          f"{fmt_s(cpu)} / {fmt_s(git_cpu)}", ""])
        for path in (self.root / "a", self.root / "b", writer, loose):
            shutil.rmtree(path, ignore_errors=True)

        ctx.out(table(["", "gittrack", "git", "ratio", "CPU gittrack / git", "ls-remote"],
                      self.rows))
        ctx.out(f"  ({n:,} runs; git: `git push` / `git fetch` of the same refs, the no-op "
                "push beside `git push --atomic` of the runs' glob; ls-remote: `git ls-remote "
                "REMOTE 'refs/gittrack/*'` alone, the listing any sync starts with. Refs "
                f"after the pull: {'as expected' if ok_counts else 'WRONG COUNT'}.)")
        # judged on wall time; the CPU time beside it says how much a busy machine added
        ctx.targets.append(Target(f"no-op push < {NOOP_TARGET_S} s ({n:,} runs)",
                                  f"{fmt_s(push_wall)} (CPU {fmt_s(push_cpu)})",
                                  push_wall < NOOP_TARGET_S))
        ctx.targets.append(Target(f"no-op pull < {NOOP_TARGET_S} s ({n:,} runs)",
                                  f"{fmt_s(pull_wall)} (CPU {fmt_s(pull_cpu)})",
                                  pull_wall < NOOP_TARGET_S))
        ratio = wall / git_wall
        ctx.targets.append(Target(
            f"pull of {new:,} new runs ≤ {PULL_RATIO_TARGET}× git fetch",
            f"{fmt_s(wall)} vs {fmt_s(git_wall)} ({fmt_ratio(ratio)}; CPU "
            f"{fmt_ratio(cpu / git_cpu)})", ratio <= PULL_RATIO_TARGET and ok_counts))


def run(ctx: Context) -> None:
    runs, new = (10_000, 1_000) if ctx.quick else (100_000, 10_000)
    ctx.out(f"## scale: {runs:,} runs: no-op push and pull, pulling {new:,} new runs")
    try:
        _Bench(ctx, runs, new).run()
    except (RuntimeError, OSError) as exc:
        ctx.out(f"  (not measured: {exc})")
        for name in ("no-op push", "no-op pull", "pull of new runs"):
            ctx.targets.append(Target(name, "-", None))
    ctx.out()


def _main(argv: list[str]) -> Any:
    """``python -m bench.scale_sync [--quick]``: this part alone."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gittrack-scale-sync-") as tmp:
        ctx = Context(quick="--quick" in argv, repeats=3, tmp=Path(tmp), targets=[], data={})
        run(ctx)
        for target in ctx.targets:
            print(f"{target.verdict}: {target.name}: {target.figure}")


if __name__ == "__main__":
    _main(sys.argv[1:])
