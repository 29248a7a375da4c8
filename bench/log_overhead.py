"""Per-call cost of ``log()`` with 10 scalars, and the time to ``finish()`` after it.

The loop is the same for every tracker: a row of ten floats (``common.iter_rows``) becomes a
dict, and only the call that hands it to the tracker is timed (``perf_counter_ns`` around each
call; the generation of values is outside the timed part). The mean per call is the headline
(it includes every stall, e.g. a background checkpoint holding the GIL); p50/p99/max show the
shape. "CPU/step" is the CPU time of the process (all threads) and of its children (wandb's
service process) during the loop and ``finish()``, divided by the steps, minus the same figure
for a loop whose ``log`` does nothing: it also counts work a tracker pushes to the background.
"""

from __future__ import annotations

import json
import os
import time
from array import array
from collections.abc import Callable
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
    percentile,
    run_worker,
    table,
)

LogFn = Callable[[dict[str, float], int], None]


# -- worker side ------------------------------------------------------------------------------

class NoopTracker:
    """``log`` does nothing: the cost of the loop itself."""

    def start(self, workdir: Path, label: str) -> None:
        pass

    def log_fn(self) -> LogFn:
        return lambda data, step: None

    def finish(self) -> None:
        pass

    def stored_bytes(self) -> int:
        return 0


class JsonlTracker:
    """The floor: one JSON line per call, one ``write(2)`` per call (so, like gittrack's WAL, a
    returned call survives a killed process); ``finish`` fsyncs and closes."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.fd = -1

    def start(self, workdir: Path, label: str) -> None:
        self.path = workdir / f"{label}.jsonl"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def log_fn(self) -> LogFn:
        fd, dumps, write, now = self.fd, json.dumps, os.write, time.time

        def log(data: dict[str, float], step: int) -> None:
            write(fd, (dumps({"_step": step, "_timestamp": now(), **data}) + "\n").encode())

        return log

    def finish(self) -> None:
        os.fsync(self.fd)
        os.close(self.fd)

    def stored_bytes(self) -> int:
        assert self.path is not None
        return dir_bytes(self.path)


class GittrackTracker:
    """``gittrack.init(repo=...)`` in a fresh repository, ``run.log(d)``, ``run.finish()``."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        import gittrack

        self.gittrack = gittrack
        self.settings = {"quiet": True, **(settings or {})}
        self.run: Any = None
        self.repo: Path | None = None

    def start(self, workdir: Path, label: str) -> None:
        self.repo = make_repo(workdir / label)
        self.run = self.gittrack.init(
            project="bench", name=label, config={"lr": 1e-3, "batch_size": 128},
            repo=str(self.repo), settings=self.settings,
        )

    def log_fn(self) -> LogFn:
        log = self.run.log
        return lambda data, step: log(data)

    def finish(self) -> None:
        self.run.finish()

    def stored_bytes(self) -> int:
        return 0  # measured in git by bench.size

    def info(self) -> dict[str, Any]:
        return {"repo": str(self.repo), "run_id": self.run.id, "ref": self.run.ref}


def make_tracker(key: str, settings: dict[str, Any] | None = None) -> Any:
    if key == "none":
        return NoopTracker()
    if key == "jsonl":
        return JsonlTracker()
    if key == "gittrack":
        return GittrackTracker(settings)
    return competitors.make_tracker(key)


def timed_loop(log: LogFn, steps: int, precision: str, record: bool) -> dict[str, Any]:
    keys = KEYS
    clock = time.perf_counter_ns
    durations = array("q")
    total = 0
    for step, row in enumerate(iter_rows(steps, precision)):
        data = dict(zip(keys, row, strict=True))
        t0 = clock()
        log(data, step)
        elapsed = clock() - t0
        total += elapsed
        if record:
            durations.append(elapsed)
    result: dict[str, Any] = {"mean_us": total / steps / 1e3}
    if record:
        tail = durations[-max(1, steps // 10):]
        result["last10_us"] = sum(tail) / len(tail) / 1e3
        ordered = sorted(durations)
        for name, q in (("p50_us", 50), ("p99_us", 99)):
            result[name] = percentile(ordered, q) / 1e3
        result["max_us"] = ordered[-1] / 1e3
    return result


def timer_overhead_us() -> float:
    clock = time.perf_counter_ns
    n = 100_000
    t0 = clock()
    for _ in range(n):
        clock()
    return (clock() - t0) / n / 1e3


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
    tracker = make_tracker(args["tracker"])
    warmup = int(args.get("warmup", 0))
    warm_bytes = 0
    if warmup:
        tracker.start(workdir, "warmup")
        timed_loop(tracker.log_fn(), warmup, args["precision"], record=False)
        tracker.finish()
        warm_bytes = tracker.stored_bytes()
        tracker = make_tracker(args["tracker"])
    steps = int(args["steps"])
    t0 = time.perf_counter()
    tracker.start(workdir, "run")
    init_s = time.perf_counter() - t0
    cpu0, children0 = time.process_time(), children_cpu_s()
    result = timed_loop(tracker.log_fn(), steps, args["precision"], record=args["record"])
    t0 = time.perf_counter()
    tracker.finish()
    result["finish_s"] = time.perf_counter() - t0
    cpu = time.process_time() - cpu0 + children_cpu_s() - children0
    result["cpu_us_per_step"] = cpu / steps * 1e6
    result.update(steps=steps, init_s=init_s, stored_bytes=tracker.stored_bytes(),
                  warmup_steps=warmup, warmup_bytes=warm_bytes, timer_us=timer_overhead_us())
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
             ("gittrack", f"gittrack {gittrack.__version__}", steps, {})]
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


def _warmup_steps(steps: int) -> int:
    return min(2_000, max(10, steps // 20))


def run(ctx: Context) -> None:
    ctx.out(f"## log(): 10 scalars per call, {full_steps(ctx):,} steps")
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
                                     "workdir": str(workdir), "record": True},
                             cwd=workdir, env=env)
            if "error" in res:
                ctx.out(f"  note: {label} failed in run {rep + 1}: {res['error']}")
            else:
                runs[key].append(res)
    ctx.data["log"] = runs

    def med(key: str, field: str) -> float | None:
        values = [r[field] for r in runs[key] if field in r]
        return median(values) if values else None

    noop_cpu = med("none", "cpu_us_per_step") or 0.0
    ours = med("gittrack", "mean_us")
    rows = []
    fewer = False
    for key, label, steps, _ in trackers:
        if key == "none" or not runs[key]:
            continue
        mean = med(key, "mean_us")
        assert mean is not None
        if key == "jsonl":
            ratio = f"gittrack is {fmt_ratio(ours / mean)} this" if ours else "-"
        elif key == "gittrack":
            ratio = "1×"
        else:
            ratio = f"{fmt_ratio(mean / ours)} gittrack" if ours else "-"
        mark = ""
        if steps < full_steps(ctx):
            mark, fewer = " †", True
        cpu = (med(key, "cpu_us_per_step") or 0.0) - noop_cpu
        rows.append([label + mark, f"{steps:,}", f"{mean:.1f}", f"{med(key, 'p50_us'):.1f}",
                     f"{med(key, 'p99_us'):.1f}", f"{med(key, 'max_us'):,.0f}",
                     f"{med(key, 'last10_us'):.1f}", f"{cpu:.1f}", ratio])
    ctx.out(table(["tracker", "steps", "mean µs/call", "p50", "p99", "max", "last 10%",
                   "CPU µs/step", "ratio"], rows))
    ctx.out(f"  median of {ctx.repeats} run(s), each in a fresh process after a warm-up run "
            "(1/20 of the steps, at most 2,000); values: 'mixed' precision (see below).")
    for key, label, *_ in trackers:
        if len(runs[key]) > 1:
            each = ", ".join(f"{r['mean_us']:.1f}" for r in runs[key])
            ctx.out(f"  {label}: mean µs/call per run: {each}")
    if runs["gittrack"]:
        ctx.out(f"  timer overhead (perf_counter_ns, included above): "
                f"{runs['gittrack'][0]['timer_us'] * 1e3:.0f} ns/call; loop-only CPU: "
                f"{noop_cpu:.1f} µs/step (subtracted in 'CPU µs/step')")
    if fewer:
        ctx.out("  † measured over fewer steps (too slow per call for the full count), "
                "reported per call; 'last 10%' shows whether the cost grows with the steps.")
    ctx.out("  CPU µs/step: CPU time of the process (all threads) and of its child processes "
            "(wandb's service) during the loop and finish(), per step.")
    wandb = med("wandb", "mean_us") if runs.get("wandb") else None
    ratio = wandb / ours if wandb and ours else None
    ctx.targets.append(Target(
        "log() ≥ 20× cheaper per call than wandb offline",
        f"{fmt_ratio(ratio)} ({ours:.1f} vs {wandb:.1f} µs/call)" if ratio and ours and wandb
        else ("wandb not measured" if ours else "gittrack failed"),
        None if ratio is None else ratio >= 20,
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

