"""Sync (issue 4): ``gittrack push`` and ``gittrack pull`` of 1,000 runs (100 with ``--quick``),
and of an unchanged repository, beside ``git push``/``git fetch`` of the same refs by hand.

What is timed, each a fresh process as a user runs it (interpreter start and imports included):

- push: ``python -m gittrack -C SRC push origin`` against
  ``git -C SRC push origin 'refs/gittrack/*:refs/gittrack/*'``, each to its own fresh bare
  remote that already holds the code branch, so both send the same objects and create the
  same refs. Before each command the source's sync state (``refs/gittrack-remotes/*``,
  ``refs/gittrack-sync/*``) is dropped, so every gittrack push is a first push to that remote
  and git's side sees the same local refs.
- pull: ``python -m gittrack -C CLONE pull`` against
  ``git -C CLONE fetch origin 'refs/gittrack/*:refs/gittrack/*'``, each in its own fresh
  ``git clone`` (code only) of one remote holding the runs.
- no-op: the same four commands again on an unchanged repository (push right after a push;
  pull in a clone that has pulled), both sides against the same remote; one warm-up, then the
  median of five.

Transports: a bare repository by path, and ``git://`` through a ``git daemon`` on 127.0.0.1
started and stopped here (skipped if it does not start). Each timed pair is repeated five
times (``--repeats`` more), the order of the sides rotated between repeats; medians are
reported. A third push side is ``git push`` by hand with gittrack's exact arguments
(``--atomic --porcelain`` and the runs' glob ``refs/gittrack/runs/*``), which separates git's
own cost of those arguments from gittrack's. gittrack writes the refs a pull creates (and the
mirror refs of both commands) in one rewrite of ``packed-refs``, where ``git fetch`` writes a
loose file per ref; that is part of what is measured. gittrack's commands run with bytecode
caching on (``PYTHONPYCACHEPREFIX`` in the scratch folder, warmed up first), as after ``pip
install``, even where the environment sets ``PYTHONDONTWRITEBYTECODE``. In-process push and pull
(``python -m bench.sync``, after imports) split gittrack's time into its git subprocesses,
its own ref writes, and the rest.

The runs are made with the real API (``init``, 20 steps of 3 keys, ``finish``) by two
processes at once (``bench.worker make_runs``, the runs section's worker); their objects and
refs are loose, as gittrack leaves them.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    Context,
    Target,
    answer,
    clean_env,
    fmt_ratio,
    fmt_s,
    git,
    make_repo,
    python_result,
    run_command,
    run_worker,
    table,
    time_command,
    worker_env,
)
from tests.helpers.servers import git_daemon

REPEATS = 5  # the machine is shared: medians of 5, sides interleaved
GLOB = "refs/gittrack/*:refs/gittrack/*"
SYNC_STATE = ("refs/gittrack-remotes/", "refs/gittrack-sync/")
OVERHEAD_TARGET = 0.20
NOOP_TARGET_S = 1.0


# -- worker side: in-process push and pull, with where the time goes -----------------------

def _instrument() -> dict[str, float]:
    """Wrap gittrack's git subprocess call and its ref writes to sum the time spent in each."""
    from gittrack.git import refs, transport

    spent: dict[str, float] = {}

    def timed(key: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                name = key(*args, **kwargs)
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    transport.run_git = timed(lambda repo, args, **_: f"git {args[0]}", transport.run_git)
    refs.update_refs = timed(lambda *a, **k: "ref writes (packed-refs transactions)",
                             refs.update_refs)
    refs.update_ref = timed(lambda *a, **k: "single ref writes", refs.update_ref)
    return spent


def worker_sync(args: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import pygit2

    from gittrack.sync.pull import pull
    from gittrack.sync.push import push

    imports = time.perf_counter() - t0
    spent = _instrument()
    repo = pygit2.Repository(args["repo"])
    t0 = time.perf_counter()
    if args["op"] == "push":
        report = push(repo, "origin")
        moved = len(report.sent)
    else:
        moved = len(pull(repo, "origin").updated)
    total = time.perf_counter() - t0
    return {"total_s": total, "imports_s": imports, "spent": spent, "moved": moved}


# -- parent side ------------------------------------------------------------------------------

def _run_sync_worker(args: dict[str, Any]) -> dict[str, Any]:
    """``python -m bench.sync JSON`` in a fresh interpreter; its result dict or ``error``."""
    return python_result(["-m", "bench.sync", json.dumps(args)], env=worker_env())


def _timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) of the process and every process it
    waited for: a figure a busy machine disturbs less than wall time. (Over ``git://`` the
    server's processes are the daemon's children, not ours, on either side.)"""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run_command(argv, env=clean_env(env))
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _drop_refs(repo: Path, *prefixes: str) -> None:
    listed = git(repo, "for-each-ref", "--format=delete %(refname)", *prefixes)
    if listed.strip():
        run_command(["git", "-C", str(repo), "update-ref", "--stdin"], stdin=listed,
                    env=clean_env())


def _count(repo: Path, prefix: str = "refs/gittrack/") -> int:
    return len(git(repo, "for-each-ref", "--format=%(refname)", prefix).splitlines())


@contextlib.contextmanager
def _git_daemon(base: Path) -> Iterator[int | None]:
    """``git daemon`` on 127.0.0.1 serving ``base`` with pushes allowed; yields its port, or
    None if it did not answer."""
    with contextlib.ExitStack() as stack:
        try:
            port: int | None = stack.enter_context(git_daemon(base, clean_env(), seconds=20))
        except RuntimeError:
            port = None
        yield port


@dataclass
class _Transport:
    label: str
    url: Callable[[str], str]   # bare repository name → URL
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    noop: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None

    def median(self, key: str) -> float | None:
        values = self.times.get(key)
        return statistics.median(values) if values else None

    def record(self, key: str, measured: tuple[float, float]) -> None:
        self.times.setdefault(key, []).append(measured[0])
        self.cpu.setdefault(key, []).append(measured[1])

    def cpu_cell(self, key: str, base: str | None = None) -> str:
        mine, theirs = self.cpu.get(key), self.cpu.get(base or "")
        if not mine:
            return ""
        cell = fmt_s(statistics.median(mine))
        if theirs:
            cell += f" ({fmt_ratio(statistics.median(mine) / statistics.median(theirs))})"
        return cell


class _Bench:
    def __init__(self, ctx: Context, count: int, repeats: int) -> None:
        self.ctx = ctx
        self.count = count
        self.repeats = repeats
        self.root = ctx.scratch("sync")
        self.remotes = ctx.scratch("sync", "remotes")
        self.src = make_repo(self.root / "src")
        git(self.src, "remote", "add", "origin", str(self.remotes / "none.git"))
        self.serial = 0
        # Bytecode caching on, in the scratch folder (as after `pip install`, which compiles):
        # this machine may set PYTHONDONTWRITEBYTECODE, recompiling gittrack at every start.
        self.env = {"PYTHONDONTWRITEBYTECODE": "",
                    "PYTHONPYCACHEPREFIX": str(ctx.scratch("sync", "pycache"))}

    def cli(self, repo: Path, *args: str) -> list[str]:
        return [sys.executable, "-m", "gittrack", "-C", str(repo), *args]

    def bare(self, tag: str) -> str:
        """A fresh bare remote holding the source's code branch; its name."""
        self.serial += 1
        name = f"{tag}-{self.serial}.git"
        path = self.remotes / name
        path.mkdir()
        git(path, "init", "-q", "--bare")
        git(self.src, "push", "-q", str(path), "HEAD:refs/heads/main")
        git(path, "symbolic-ref", "HEAD", "refs/heads/main")
        return name

    def clone(self, url: str, tag: str) -> Path:
        self.serial += 1
        path = self.root / f"{tag}-{self.serial}"
        subprocess.run(["git", "clone", "-q", url, str(path)], check=True, capture_output=True,
                       env=clean_env())
        return path

    def push_args(self) -> list[str]:
        """``git push`` as gittrack calls it for a first push of runs (``sync.push``): atomic,
        porcelain, the runs' glob (no lease: runs only grow, git's fast-forward rule guards
        them)."""
        return ["git", "-C", str(self.src), "push", "--porcelain", "--atomic", "origin",
                "refs/gittrack/runs/*:refs/gittrack/runs/*"]

    def push_pair(self, tr: _Transport, rep: int) -> None:
        sides = ["gittrack", "git", "git-args"]
        for side in sides[rep % 3:] + sides[:rep % 3]:
            name = self.bare(f"push-{side}")
            _drop_refs(self.src, *SYNC_STATE)
            git(self.src, "remote", "set-url", "origin", tr.url(name))
            argv = {"gittrack": self.cli(self.src, "push", "origin"),
                    "git": ["git", "-C", str(self.src), "push", "origin", GLOB],
                    "git-args": self.push_args()}[side]
            tr.record(f"push {side}", _timed_run(argv, self.env))
            got = _count(self.remotes / name)
            if got != self.count:
                raise RuntimeError(f"{side} push left {got} refs on the remote, not {self.count}")
            tr.noop.setdefault("remote", {})["push " + side] = name

    def pull_pair(self, tr: _Transport, rep: int, remote: str) -> None:
        order = ("gittrack", "git") if rep % 2 == 0 else ("git", "gittrack")
        for side in order:
            clone = self.clone(tr.url(remote), f"clone-{side}")
            argv = (self.cli(clone, "pull") if side == "gittrack"
                    else ["git", "-C", str(clone), "fetch", "origin", GLOB])
            tr.record(f"pull {side}", _timed_run(argv, self.env))
            got = _count(clone)
            if got != self.count:
                raise RuntimeError(f"{side} pull left {got} refs in the clone, not {self.count}")
            tr.noop.setdefault("clone", {})["pull " + side] = clone

    def measure(self, tr: _Transport) -> None:
        for rep in range(self.repeats):
            self.ctx.progress(f"sync: {tr.label}: push, repeat {rep + 1}/{self.repeats}")
            self.push_pair(tr, rep)
        # One remote holding the runs, filled by gittrack's own push; fresh clones pull it.
        remote = tr.noop["remote"]["push gittrack"]
        for rep in range(self.repeats):
            self.ctx.progress(f"sync: {tr.label}: pull, repeat {rep + 1}/{self.repeats}")
            self.pull_pair(tr, rep, remote)
        self.ctx.progress(f"sync: {tr.label}: no-op push and pull")
        # No-op push: right after a gittrack push to that remote (the warm-up run re-learns the
        # mirror, dropped before the git side's last push); both sides against the same remote.
        git(self.src, "remote", "set-url", "origin", tr.url(remote))
        tr.noop["push gittrack"] = time_command(self.cli(self.src, "push", "origin"),
                                                repeats=REPEATS, env=self.env)
        tr.noop["push git"] = time_command(["git", "-C", str(self.src), "push", "origin", GLOB],
                                           repeats=REPEATS)
        clone = tr.noop["clone"]["pull gittrack"]
        tr.noop["pull gittrack"] = time_command(self.cli(clone, "pull"), repeats=REPEATS,
                                                env=self.env)
        tr.noop["pull git"] = time_command(["git", "-C", str(clone), "fetch", "origin", GLOB],
                                           repeats=REPEATS)

    def in_process(self) -> dict[str, list[dict[str, Any]]]:
        """gittrack's push and pull by path, in-process, with the time split."""
        found: dict[str, list[dict[str, Any]]] = {"push": [], "pull": []}
        for rep in range(self.repeats):
            self.ctx.progress(f"sync: in-process push and pull, repeat {rep + 1}/{self.repeats}")
            name = self.bare("inproc")
            _drop_refs(self.src, *SYNC_STATE)
            git(self.src, "remote", "set-url", "origin", str(self.remotes / name))
            found["push"].append(_run_sync_worker({"op": "push", "repo": str(self.src)}))
            clone = self.clone(str(self.remotes / name), "clone-inproc")
            found["pull"].append(_run_sync_worker({"op": "pull", "repo": str(clone)}))
            for op in found:
                moved = found[op][-1].get("moved", self.count)
                if moved != self.count:
                    found[op][-1] = {"error": f"{op} moved {moved} refs, not {self.count}"}
        return found


def _make_runs(ctx: Context, repo: Path, count: int) -> tuple[float, list[str]]:
    workers = 2 if (os.cpu_count() or 1) >= 2 else 1
    parts = [(i * count // workers, (i + 1) * count // workers - i * count // workers)
             for i in range(workers)]
    ctx.progress(f"sync: creating {count:,} runs with the API ({workers} processes)")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        made = list(pool.map(
            lambda part: run_worker("make_runs", {"repo": str(repo), "start": part[0],
                                                  "count": part[1]}), parts))
    return time.perf_counter() - t0, [m["error"] for m in made if "error" in m]


def _ratio_cell(value: float | None, base: float | None, what: str) -> str:
    if value is None or not base:
        return "-"
    return f"{fmt_ratio(value / base)} {what} ({(value / base - 1) * 100:+.0f}%)"


def _all(values: list[float] | None) -> str:
    return ", ".join(f"{v:.2f}" for v in values or [])


def _rows(tr: _Transport) -> list[list[str]]:
    rows = []
    for op, verb in (("push", f"git push origin '{GLOB}'"),
                     ("pull", f"git fetch origin '{GLOB}'")):
        mine, base = tr.median(f"{op} gittrack"), tr.median(f"{op} git")
        rows.append([f"{tr.label}: gittrack {op}{' origin' if op == 'push' else ''}",
                     fmt_s(mine), _ratio_cell(mine, base, verb.split(" origin")[0]),
                     tr.cpu_cell(f"{op} gittrack", f"{op} git"),
                     _all(tr.times.get(f"{op} gittrack"))])
        rows.append([f"{tr.label}: {verb}", fmt_s(base), "1×", tr.cpu_cell(f"{op} git"),
                     _all(tr.times.get(f"{op} git"))])
        if op == "push":
            same = tr.median("push git-args")
            rows.append([f"{tr.label}: git push with gittrack's arguments †", fmt_s(same),
                         _ratio_cell(same, base, "git push"),
                         tr.cpu_cell("push git-args", "push git"),
                         _all(tr.times.get("push git-args"))])
    for op, verb in (("push", "git push"), ("pull", "git fetch")):
        ours, theirs = tr.noop.get(f"{op} gittrack", {}), tr.noop.get(f"{op} git", {})
        rows.append([f"{tr.label}: no-op gittrack {op}",
                     fmt_s(ours.get("median")) if "error" not in ours
                     else "FAILED: " + ours["error"],
                     _ratio_cell(ours.get("median"), theirs.get("median"), verb), "",
                     _all(ours.get("times"))])
        rows.append([f"{tr.label}: no-op {verb} (same refspec)",
                     fmt_s(theirs.get("median")) if "error" not in theirs
                     else "FAILED: " + theirs["error"], "1×", "", _all(theirs.get("times"))])
    return rows


def _split(results: list[dict[str, Any]]) -> str:
    ok = [r for r in results if "error" not in r]
    if not ok:
        return "FAILED: " + (results[0]["error"] if results else "not run")
    total = statistics.median(r["total_s"] for r in ok)
    keys = sorted({k for r in ok for k in r["spent"]})
    parts = []
    for key in keys:
        value = statistics.median(r["spent"].get(key, 0.0) for r in ok)
        parts.append(f"{key} {fmt_s(value)}")
    rest = statistics.median(r["total_s"] - sum(r["spent"].values()) for r in ok)
    parts.append(f"the rest (Python: listing, comparing, reporting) {fmt_s(max(0.0, rest))}")
    imports = statistics.median(r["imports_s"] for r in ok)
    return (f"{fmt_s(total)} (imports before it: {fmt_s(imports)}); of which "
            + ", ".join(parts))


def run(ctx: Context) -> None:
    count = 100 if ctx.quick else 1_000
    repeats = max(REPEATS, ctx.repeats)
    suffix = "" if count == 1_000 else f" (quick: {count:,} runs)"
    ctx.out(f"## sync: `gittrack push` / `pull` of {count:,} runs and of an unchanged "
            "repository, against plain git (issue 4)")
    bench = _Bench(ctx, count, repeats)
    created, errors = _make_runs(ctx, bench.src, count)
    made = _count(bench.src)
    objects = git(bench.src, "count-objects").split()[0]
    ctx.out(f"  made {made:,} runs in {created:.1f} s ({objects} loose objects, loose refs)"
            + (f"; errors: {errors}" if errors else ""))
    targets = [f"sync: no-op `gittrack push` < 1 s{suffix}",
               f"sync: `gittrack push` of 1,000 runs: overhead over `git push` < 20%{suffix}",
               f"sync: `gittrack pull` of 1,000 runs: overhead over `git fetch` < 20%{suffix}"]
    if made != count:
        ctx.out("  skipped: the runs could not be made")
        ctx.targets.extend(Target(t, "not measured", None) for t in targets)
        return
    # Warm-up: fills the bytecode cache (and the page cache) before anything is timed.
    for args in (("--version",), ("push", "--help"), ("pull", "--help")):
        _timed_run(bench.cli(bench.src, *args), bench.env)
    transports = [_Transport("path", lambda name: str(bench.remotes / name))]
    with _git_daemon(bench.remotes) as port:
        if port is not None:
            transports.append(_Transport("git://", lambda name: f"git://127.0.0.1:{port}/{name}"))
        for tr in transports:
            try:
                bench.measure(tr)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                tr.error = str(getattr(exc, "stderr", None) or exc).strip()[:300]
    inproc = bench.in_process()
    version = [sys.executable, "-m", "gittrack", "--version"]
    startup = time_command(version, repeats=REPEATS, env=bench.env)
    startup_nocache = time_command(version, repeats=REPEATS,
                                   env={"PYTHONDONTWRITEBYTECODE": "1"})
    bare_python = time_command([sys.executable, "-c", "pass"], repeats=REPEATS)

    rows: list[list[str]] = []
    for tr in transports:
        if tr.error:
            rows.append([f"{tr.label}: FAILED", tr.error, "", ""])
        rows.extend(_rows(tr))
    for label, res in (("python -m gittrack --version (for scale)", startup),
                       ("  the same, without bytecode caching", startup_nocache),
                       ("python -c pass (for scale)", bare_python)):
        rows.append([label, fmt_s(res.get("median")), "", "", _all(res.get("times"))])
    ctx.out(table(["command", "median wall", "ratio (overhead)", "median CPU (ratio)",
                   "each run, s"], rows))
    if port is None:
        ctx.out("  git://: skipped (`git daemon` did not answer on 127.0.0.1)")
    ctx.out(f"  median of {repeats} runs, each side to its own fresh bare remote (push; the "
            "code branch already there) or in its own fresh clone (pull), order rotated; "
            f"no-op: one warm-up, then the median of {REPEATS}, both sides on the same "
            "repository. "
            "Wall time of a fresh process, interpreter start and imports included; gittrack "
            "with bytecode caching on (PYTHONPYCACHEPREFIX in the scratch folder, warmed up "
            "first), as after `pip install`. CPU: user + system time of the command and the "
            "processes it waited for (git's children; over git:// the server side is the "
            "daemon's, counted on neither side), less disturbed by a busy machine.")
    ctx.out("  † the `git push` gittrack runs, by hand: --porcelain --atomic and the runs' "
            "glob refspec; the gap to plain git push is git's own cost of those arguments.")
    ctx.out(f"  in-process, by path, after imports (median of {repeats}):")
    ctx.out(f"    push: {_split(inproc['push'])}")
    ctx.out(f"    pull: {_split(inproc['pull'])}")

    path = transports[0]
    noop = [tr.noop.get("push gittrack", {}).get("median") for tr in transports]
    ctx.targets.append(Target(
        targets[0],
        "; ".join(f"{tr.label} {fmt_s(tr.noop.get('push gittrack', {}).get('median'))} "
                  f"(git push {fmt_s(tr.noop.get('push git', {}).get('median'))})"
                  for tr in transports),
        None if None in noop else all(n is not None and n < NOOP_TARGET_S for n in noop)))
    for i, (op, base) in enumerate((("push", "git push"), ("pull", "git fetch")), start=1):
        pairs = [(tr, tr.median(f"{op} gittrack"), tr.median(f"{op} git")) for tr in transports]
        figure = "; ".join(
            f"{tr.label} {fmt_ratio(m / b) if m and b else '-'} "
            f"({fmt_s(m)} vs {base} {fmt_s(b)})" for tr, m, b in pairs)
        measured = [m / b for _, m, b in pairs if m and b]
        ok = (None if len(measured) < len(pairs) or path.error
              else all(r < 1 + OVERHEAD_TARGET for r in measured))
        ctx.targets.append(Target(targets[i], figure, ok))


def main(argv: list[str]) -> int:
    """The worker side: ``python -m bench.sync JSON`` (its own entry, so that the imports it
    times are gittrack's alone)."""
    return answer(worker_sync, argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
