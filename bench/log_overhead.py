"""Per-call cost of ``log(..., step=i)`` with 10 floats, and the time to ``finish()`` after it.

Measured as issue 10 asks: for each tool, a loop of ``steps`` steps builds a dict of ten floats
(``common.iter_rows``) and calls the tool's log with ``step=i``; the cost per call is the loop's
wall time divided by the steps, minus the same for a loop whose ``log`` does nothing, the median
of the runs (3 by default), each in a fresh process after a warm-up run. The loop is timed as a
whole (no timer per call); it is cut in blocks of ``BLOCK`` steps, timed each, so the slowest
block shows the stalls (a checkpoint holding the GIL). "last 10%" is the cost per call over the
last tenth of the steps (whether it grows with the steps).

Where the time goes, per step: "caller CPU" is the CPU time of the thread running the loop
(``time.thread_time``); for gittrack, "checkpoint CPU" is the CPU time of its checkpoint thread
during the loop (its ``pthread`` CPU clock), "GIL held" the time that thread holds the GIL
(``_GilClock``: its CPU time but that of the calls that run without the GIL, plus the waits in
pygit2 calls that keep it, as libgit2's fsyncs), and "of it blobs" the time pygit2 spends
writing blobs with the GIL held. On 2 cores a checkpoint thread's GIL time is paid by
the caller's loop. "process CPU" is every thread and child process
(wandb's service) during the loop and ``finish()``, minus the no-op loop's.
"""

from __future__ import annotations

import json
import os
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import competitors
from bench.common import (
    KEYS,
    Context,
    Target,
    dir_bytes,
    fmt_ratio,
    fmt_s,
    iter_rows,
    make_repo,
    median,
    run_worker,
    table,
)

LogFn = Callable[..., None]  # log(data, step) and log(data, step=step)
BLOCK = 1_000


# -- worker side ------------------------------------------------------------------------------

def _noop(data: dict[str, float], step: int | None = None) -> None:
    pass


class NoopTracker:
    """``log`` does nothing: the cost of the loop itself."""

    def start(self, workdir: Path, label: str) -> None:
        pass

    def log_fn(self) -> LogFn:
        return _noop

    def finish(self) -> None:
        pass

    def stored_bytes(self) -> int:
        return 0


class JsonlTracker:
    """The floor: one JSON line per call (the step, a timestamp and the values, as gittrack
    stores them), one ``write(2)`` per call (so, like gittrack's WAL, a returned call survives
    a killed process); ``finish`` fsyncs and closes."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.fd = -1

    def start(self, workdir: Path, label: str) -> None:
        self.path = workdir / f"{label}.jsonl"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def log_fn(self) -> LogFn:
        fd, dumps, write, now = self.fd, json.dumps, os.write, time.time

        def log(data: dict[str, float], step: int | None = None) -> None:
            write(fd, (dumps({"_step": step, "_timestamp": now(), **data}) + "\n").encode())

        return log

    def finish(self) -> None:
        os.fsync(self.fd)
        os.close(self.fd)

    def stored_bytes(self) -> int:
        assert self.path is not None
        return dir_bytes(self.path)


class GittrackTracker:
    """``gittrack.init(repo=...)`` in a fresh repository, ``run.log(d, step=i)`` (or the
    module-level ``gittrack.log(d, step=i)`` with ``module=True``), ``run.finish()``."""

    def __init__(self, settings: dict[str, Any] | None = None, module: bool = False) -> None:
        import gittrack

        self.gittrack = gittrack
        self.settings = {"quiet": True, **(settings or {})}
        self.module = module
        self.run: Any = None
        self.repo: Path | None = None

    def start(self, workdir: Path, label: str) -> None:
        self.repo = make_repo(workdir / label)
        self.run = self.gittrack.init(
            project="bench", name=label, config={"lr": 1e-3, "batch_size": 128},
            repo=str(self.repo), settings=self.settings,
        )

    def log_fn(self) -> LogFn:
        log: LogFn = self.gittrack.log if self.module else self.run.log
        return log

    def finish(self) -> None:
        self.run.finish()

    def stored_bytes(self) -> int:
        return 0  # measured in git by bench.size

    def info(self) -> dict[str, Any]:
        return {"repo": str(self.repo), "run_id": self.run.id, "ref": self.run.ref}

    def checkpoint_thread(self) -> threading.Thread | None:
        thread: threading.Thread | None = getattr(self.run, "_thread", None)
        return thread


def make_tracker(key: str, settings: dict[str, Any] | None = None) -> Any:
    if key == "none":
        return NoopTracker()
    if key == "jsonl":
        return JsonlTracker()
    if key == "gittrack":
        return GittrackTracker(settings)
    if key == "gittrack-module":
        return GittrackTracker(settings, module=True)
    return competitors.make_tracker(key)


def timed_loop(log: LogFn, steps: int, precision: str) -> dict[str, Any]:
    """The loop of issue 10: ten floats built into a dict, ``log(data, step=i)``; timed per
    block of ``BLOCK`` steps, with the CPU time of this thread."""
    keys = KEYS
    rows: Iterator[list[float]] = iter_rows(steps, precision)
    clock = time.perf_counter_ns
    blocks = array("q")
    cpu0 = time.thread_time_ns()
    for first in range(0, steps, BLOCK):
        t0 = clock()
        for step, row in zip(range(first, min(steps, first + BLOCK)), rows, strict=False):
            log(dict(zip(keys, row, strict=True)), step=step)
        blocks.append(clock() - t0)
    cpu = time.thread_time_ns() - cpu0
    total = sum(blocks)
    tail = blocks[-max(1, len(blocks) // 10):]
    tail_steps = min(steps, len(tail) * BLOCK)
    return {"loop_us": total / steps / 1e3, "last10_us": sum(tail) / tail_steps / 1e3,
            "worst_block_us": max(blocks) / min(steps, BLOCK) / 1e3,
            "caller_cpu_us": cpu / steps / 1e3}


class _GilClock:
    """How long a checkpoint thread holds the GIL, from wrapped calls: its CPU time, minus the
    CPU time of calls that run without the GIL (``pyarrow.parquet.write_table``'s encoder and
    compressor; gittrack writing a blob where it does so itself: hashlib, zlib, write and
    fsync), plus the time spent waiting in calls that keep it (pygit2 writing a blob or a
    commit: libgit2 hashes, compresses and fsyncs with the GIL held; their wall time minus their
    CPU time). Tree writes (a pygit2 type that cannot be wrapped) count by their CPU time only.
    "of it blobs" is the wall time of blob writes with the GIL held."""

    def __init__(self) -> None:
        import pyarrow.parquet as pq
        import pygit2

        from gittrack.git import objects

        self.patched: list[tuple[Any, str, Any]] = []
        self.free_cpu = self.held_wait = self.blob_wall = 0
        self._wrap(pq, "write_table", held=False)
        if hasattr(objects, "create_blob"):  # gittrack writes blobs itself, without the GIL
            self._wrap(objects, "create_blob", held=False)
        self._wrap(pygit2.Repository, "create_blob", held=True, blob=True)
        self._wrap(pygit2.Repository, "create_commit", held=True)

    def _wrap(self, owner: Any, name: str, *, held: bool, blob: bool = False) -> None:
        original = getattr(owner, name)
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, w0 = time.thread_time_ns(), time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                cpu, wall = time.thread_time_ns() - t0, time.perf_counter_ns() - w0
                if held:
                    clock.held_wait += max(0, wall - cpu)
                    clock.blob_wall += wall if blob else 0
                else:
                    clock.free_cpu += cpu

        self.patched.append((owner, name, original))
        setattr(owner, name, timed)

    def gil_ns(self, cpu_ns: int) -> int:
        return cpu_ns - self.free_cpu + self.held_wait

    def close(self) -> None:
        for owner, name, original in reversed(self.patched):
            setattr(owner, name, original)


def _thread_cpu_ns(thread: threading.Thread | None) -> int | None:
    if thread is None or thread.ident is None or not thread.is_alive():
        return None
    try:
        return time.clock_gettime_ns(time.pthread_getcpuclockid(thread.ident))
    except (OSError, AttributeError):  # no per-thread CPU clock on this platform
        return None


def children_cpu_s() -> float:
    """CPU seconds of this process's children: live ones (psutil) plus exited, waited ones."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    try:
        import psutil
    except ImportError:
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def worker_log(args: dict[str, Any]) -> dict[str, Any]:
    """Task ``log``: a warm-up run, then the measured run of ``steps`` steps."""
    workdir = Path(args["workdir"])
    tracker = make_tracker(args["tracker"], args.get("settings"))
    warmup = int(args.get("warmup", 0))
    warm_bytes = 0
    if warmup:
        tracker.start(workdir, "warmup")
        timed_loop(tracker.log_fn(), warmup, args["precision"])
        tracker.finish()
        warm_bytes = tracker.stored_bytes()
        tracker = make_tracker(args["tracker"], args.get("settings"))
    steps = int(args["steps"])
    t0 = time.perf_counter()
    tracker.start(workdir, "run")
    init_s = time.perf_counter() - t0
    thread = tracker.checkpoint_thread() if hasattr(tracker, "checkpoint_thread") else None
    gil = _GilClock() if thread is not None else None
    cpu0, children0 = time.process_time(), children_cpu_s()
    thread0 = _thread_cpu_ns(thread)
    result = timed_loop(tracker.log_fn(), steps, args["precision"])
    thread1 = _thread_cpu_ns(thread)
    if thread0 is not None and thread1 is not None and gil is not None:
        result["checkpoint_cpu_us"] = (thread1 - thread0) / steps / 1e3
        result["checkpoint_gil_us"] = gil.gil_ns(thread1 - thread0) / steps / 1e3
        result["checkpoint_blob_us"] = gil.blob_wall / steps / 1e3
    t0 = time.perf_counter()
    tracker.finish()
    result["finish_s"] = time.perf_counter() - t0
    if gil is not None:
        gil.close()
    cpu = time.process_time() - cpu0 + children_cpu_s() - children0
    result["cpu_us_per_step"] = cpu / steps * 1e6
    result.update(steps=steps, init_s=init_s, stored_bytes=tracker.stored_bytes(),
                  warmup_steps=warmup, warmup_bytes=warm_bytes)
    if hasattr(tracker, "info"):
        result.update(tracker.info())
    return result


# -- parent side ------------------------------------------------------------------------------

def _trackers(ctx: Context) -> list[tuple[str, str, int, dict[str, str]]]:
    """(key, label, steps, env) of every tracker to measure; notes for the skipped ones."""
    import gittrack

    steps = full_steps(ctx)
    found = [("none", "no-op log (loop only)", steps, {}),
             ("jsonl", "JSON line per call (floor)", steps, {}),
             ("gittrack", f"gittrack {gittrack.__version__} run.log", steps, {}),
             ("gittrack-module", f"gittrack {gittrack.__version__} gittrack.log", steps, {})]
    for comp in competitors.COMPETITORS:
        if not comp.installed():
            ctx.out(f"  note: {comp.label} skipped: `{comp.module}` is not installed "
                    "(pip install -e '.[bench]')")
            continue
        n = comp.quick_steps if ctx.quick else comp.full_steps
        found.append((comp.key, f"{comp.label} ({comp.dist} {comp.version()})", n, comp.env))
    return found


def full_steps(ctx: Context) -> int:
    return 10_000 if ctx.quick else 100_000


def _settings(ctx: Context, key: str, steps: int) -> dict[str, Any] | None:
    """gittrack's settings: the defaults (a checkpoint every 20,000 rows); with ``--quick`` a
    checkpoint every 1/5 of the steps, as the full run makes, so the checkpoint thread is
    measured too."""
    if not key.startswith("gittrack") or not ctx.quick:
        return None
    return {"checkpoint_rows": max(1, steps // 5)}


def _warmup_steps(steps: int) -> int:
    return min(2_000, max(10, steps // 20))


def run(ctx: Context) -> None:
    ctx.out(f"## log(data, step=i): 10 floats per call, {full_steps(ctx):,} steps")
    trackers = _trackers(ctx)
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key, *_ in trackers}
    for rep in range(ctx.repeats):
        for key, label, steps, _ in trackers:  # interleaved: load changes hit all alike
            comp = next((c for c in competitors.COMPETITORS if c.key == key), None)
            workdir = ctx.scratch("log", f"{key}-{rep}")
            env = comp.environment(workdir) if comp else {}
            ctx.progress(f"log: {label}, {steps:,} steps, run {rep + 1}/{ctx.repeats}")
            res = run_worker("log", {"tracker": key, "steps": steps,
                                     "warmup": _warmup_steps(steps), "precision": "mixed",
                                     "workdir": str(workdir),
                                     "settings": _settings(ctx, key, steps)},
                             cwd=workdir, env=env)
            if "error" in res:
                ctx.out(f"  note: {label} failed in run {rep + 1}: {res['error']}")
            else:
                runs[key].append(res)
    ctx.data["log"] = runs

    def med(key: str, field: str) -> float | None:
        values = [r[field] for r in runs.get(key, []) if field in r]
        return median(values) if values else None

    noop = med("none", "loop_us") or 0.0
    noop_cpu = med("none", "cpu_us_per_step") or 0.0
    noop_caller = med("none", "caller_cpu_us") or 0.0

    def per_call(key: str, field: str = "loop_us") -> float | None:
        """Median over runs of the loop's cost per call minus the no-op loop's."""
        value = med(key, field)
        return None if value is None else value - noop

    floor = per_call("jsonl")
    ours = per_call("gittrack")
    wandb = per_call("wandb")
    rows = []
    fewer = False
    for key, label, steps, _ in trackers:
        if key == "none" or not runs[key]:
            continue
        cost = per_call(key)
        assert cost is not None
        ratios = []
        if floor and key != "jsonl":
            ratios.append(f"{fmt_ratio(cost / floor)} floor")
        if wandb and key in ("gittrack", "gittrack-module", "jsonl"):
            ratios.append(f"{fmt_ratio(wandb / cost)} cheaper than wandb" if cost > 0 else "-")
        mark = ""
        if steps < full_steps(ctx):
            mark, fewer = " †", True
        ckpt, gil = med(key, "checkpoint_cpu_us"), med(key, "checkpoint_gil_us")
        blob = med(key, "checkpoint_blob_us")
        rows.append([
            label + mark, f"{steps:,}", f"{cost:.2f}", f"{(per_call(key, 'last10_us') or 0):.2f}",
            f"{(med(key, 'worst_block_us') or 0) - noop:.1f}",
            f"{(med(key, 'caller_cpu_us') or 0) - noop_caller:.2f}",
            "-" if ckpt is None else f"{ckpt:.2f}", "-" if gil is None else f"{gil:.2f}",
            "-" if blob is None else f"{blob:.2f}",
            f"{(med(key, 'cpu_us_per_step') or 0) - noop_cpu:.1f}", ", ".join(ratios) or "-"])
    ctx.out(table(["tool", "steps", "µs/call", "last 10%", f"worst {BLOCK:,}", "caller CPU",
                   "checkpoint CPU", "GIL held", "of it blobs", "process CPU", "ratio"], rows))
    ctx.out(f"  µs/call: (loop time / steps) minus the no-op loop's ({noop:.2f} µs/step), "
            f"median of {ctx.repeats} run(s), each in a fresh process after a warm-up run "
            "(1/20 of the steps, at most 2,000); values: 'mixed' precision (see below)"
            + ("; gittrack checkpoints every 1/5 of the steps (20,000 rows in the full run)."
               if ctx.quick else "."))
    ctx.out(f"  worst {BLOCK:,}: the slowest block of {BLOCK:,} steps, per call. CPU columns "
            "are µs per step: caller = the loop's thread (minus the no-op loop's); checkpoint "
            "= gittrack's checkpoint thread during the loop; GIL held = the time it holds the "
            "GIL: its CPU time but that of the Parquet encoder and of gittrack's blob writes "
            "(which run without it), plus the waits (fsync) in pygit2 calls that keep it; of "
            "it blobs = pygit2 writing blobs with the GIL held (zlib, SHA-1, fsync); "
            "process = all threads and child processes "
            "(wandb's service) during the loop and finish(), minus the no-op loop's.")
    for key, label, *_ in trackers:
        if key != "none" and len(runs[key]) > 1:
            each = ", ".join(f"{r['loop_us'] - noop:.2f}" for r in runs[key])
            ctx.out(f"  {label}: µs/call per run: {each}")
    if fewer:
        ctx.out("  † measured over fewer steps (too slow per call for the full count), "
                "reported per call; 'last 10%' shows whether the cost grows with the steps.")
    module = per_call("gittrack-module")
    for name, figure in (("log() ≤ JSON-line floor", ours),
                         ("gittrack.log() ≤ JSON-line floor", module)):
        ctx.targets.append(Target(
            name, f"{figure:.2f} vs {floor:.2f} µs/call ({fmt_ratio(figure / floor)})"
            if figure is not None and floor else "not measured",
            None if figure is None or not floor else figure <= floor))
    ratio = wandb / ours if wandb and ours else None
    ctx.targets.append(Target(
        "log() ≥ 25× cheaper per call than wandb offline",
        f"{fmt_ratio(ratio)} ({ours:.2f} vs {wandb:.1f} µs/call)" if ratio and ours and wandb
        else ("wandb not measured" if ours else "gittrack failed"),
        None if ratio is None else ratio >= 25,
    ))
    _finish_table(ctx, trackers, runs)


def _finish_table(ctx: Context, trackers: list[tuple[str, str, int, dict[str, str]]],
                  runs: dict[str, list[dict[str, Any]]]) -> None:
    ctx.out()
    ctx.out("## finish(): time to return after the logged steps")
    base = [r["finish_s"] for r in runs.get("jsonl", [])]
    base_s = median(base) if base else None
    ours_list = [r["finish_s"] for r in runs.get("gittrack", [])]
    ours = median(ours_list) if ours_list else None
    rows = []
    for key, label, steps, _ in trackers:
        if key == "none" or not runs[key]:
            continue
        fin = median([r["finish_s"] for r in runs[key]])
        init = median([r["init_s"] for r in runs[key]])
        if key == "jsonl":
            ratio = "-"
        elif key == "gittrack":
            ratio = f"{fmt_ratio(fin / base_s)} the floor" if base_s else "-"
        else:
            ratio = f"{fmt_ratio(fin / ours)} gittrack" if ours else "-"
        rows.append([label, f"{steps:,}", fmt_s(fin), ratio, fmt_s(init)])
    ctx.out(table(["tracker", "after steps", "finish()", "ratio", "(init)"], rows))
    ctx.out("  floor = fsync + close of the JSON-lines file; gittrack's finish() writes the last "
            "Parquet chunk, commits, moves the ref and fsyncs. No target is set for finish().")


def stored_bytes(runs: list[dict[str, Any]], steps: int) -> tuple[float, str] | None:
    """Bytes a tracker writes for ``steps`` steps, and how that figure was found.

    Measured directly when the run had ``steps`` steps; otherwise estimated from the measured
    run and the (separate, shorter) warm-up run of the same process: the bytes of the run plus
    the marginal bytes per step times the missing steps, so fixed costs (an SQLite schema, a
    metadata file) are not multiplied.
    """
    if not runs:
        return None
    r = runs[0]
    n_bytes, n_steps = int(r["stored_bytes"]), int(r["steps"])
    if n_steps == steps:
        return float(n_bytes), "measured"
    w_bytes, w_steps = int(r.get("warmup_bytes", 0)), int(r.get("warmup_steps", 0))
    if w_steps and n_steps > w_steps:
        per_step = max(0.0, (n_bytes - w_bytes) / (n_steps - w_steps))
        how = f"estimated from runs of {w_steps:,} and {n_steps:,} steps"
    else:
        per_step, how = n_bytes / n_steps, f"scaled from {n_steps:,} steps"
    return n_bytes + per_step * (steps - n_steps), how

