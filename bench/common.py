"""Shared pieces: realistic metric values, temp git repos, subprocess workers, formatting."""

from __future__ import annotations

import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-RESULT "

# Ten keys logged at every step, as a classifier's training loop would.
KEYS = (
    "train/loss", "train/acc", "train/lr", "train/grad_norm", "train/throughput",
    "val/loss", "val/acc", "train/loss_ema", "train/weight_norm", "epoch",
)
# Which keys come from a float32 tensor's ``.item()`` in the "mixed" precision: the value is a
# Python float holding a float32 number. The others are computed in Python (float64).
_FLOAT32_KEYS = frozenset(
    {"train/loss", "train/acc", "train/grad_norm", "val/loss", "val/acc", "train/weight_norm"}
)

VALUES_NOTE = (
    "10 keys per step, smooth curves with noise (numpy, seed 0): train/loss and val/loss "
    "2.3·e^(-s/20000)+c plus Gaussian noise shrinking with the loss, accuracies 1-0.9·e^(-s/20000) "
    "plus noise, grad_norm decaying with log-normal noise, weight_norm ~ sqrt(s) plus noise, "
    "throughput 1200±30, lr linear warm-up + cosine decay, loss_ema an EMA of the loss, epoch = "
    "s/390. 'mixed' precision (the default): the six model outputs are float32 values (as "
    "torch's .item() of a float32 tensor gives), the other four float64; 'float64': every value "
    "full float64 noise (the worst case for compression)."
)


def iter_rows(n: int, precision: str = "mixed", seed: int = 0,
              block: int = 4096) -> Iterator[list[float]]:
    """``n`` rows of ten Python floats, one per key of ``KEYS``, generated ``block`` at a time.

    Memory stays flat whatever ``n``: only one block exists at a time.
    """
    import numpy as np

    if precision not in ("mixed", "float64"):
        raise ValueError(f"precision must be 'mixed' or 'float64', got {precision!r}")
    rng = np.random.default_rng(seed)
    tau = 20_000.0
    ema = 2.35
    horizon = max(n, 1)
    for start in range(0, n, block):
        s = np.arange(start, min(n, start + block), dtype=np.float64)
        m = len(s)
        decay = np.exp(-s / tau)
        loss = 2.3 * decay + 0.05 + rng.normal(0.0, 1.0, m) * (0.05 * decay + 0.01)
        acc = np.clip(0.98 - 0.9 * decay + rng.normal(0.0, 0.01, m), 0.0, 1.0)
        warm = np.minimum(1.0, (s + 1.0) / 1000.0)
        lr = 1e-3 * warm * 0.5 * (1.0 + np.cos(np.pi * s / horizon))
        grad = (np.exp(-s / (2 * tau)) + 0.2) * rng.lognormal(0.0, 0.25, m)
        throughput = 1200.0 + rng.normal(0.0, 30.0, m)
        val_loss = 2.3 * decay + 0.12 + rng.normal(0.0, 1.0, m) * (0.03 * decay + 0.005)
        val_acc = np.clip(0.95 - 0.9 * decay + rng.normal(0.0, 0.005, m), 0.0, 1.0)
        emas = np.empty(m)
        for i, x in enumerate(loss.tolist()):
            ema = 0.98 * ema + 0.02 * x
            emas[i] = ema
        weight_norm = 50.0 + 5.0 * np.sqrt(s / 1000.0) + rng.normal(0.0, 0.01, m)
        epoch = s / 390.0
        columns = dict(zip(KEYS, (loss, acc, lr, grad, throughput, val_loss, val_acc, emas,
                                  weight_norm, epoch), strict=True))
        if precision == "mixed":
            for key in _FLOAT32_KEYS:
                columns[key] = columns[key].astype(np.float32).astype(np.float64)
        yield from np.column_stack([columns[k] for k in KEYS]).tolist()


def dist_version(dist: str, missing: str = "?") -> str:
    """The installed version of the distribution ``dist``, or ``missing``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return missing


# -- git --------------------------------------------------------------------------------------

def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without inherited ``GIT_*`` variables (plus ``extra``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(extra or {})
    return env


def git(repo: str | Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                         text=True, env=clean_env())
    return out.stdout


def make_repo(path: str | Path) -> Path:
    """A fresh git repository with one empty commit."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q",
        "--allow-empty", "-m", "init")
    return path


def dir_bytes(path: str | Path) -> int:
    """Bytes of the regular files under ``path`` (or of ``path`` itself)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


# -- processes --------------------------------------------------------------------------------

def tail(proc: subprocess.CompletedProcess[str], *, stdout: bool = True) -> str:
    """The last line a failed process printed (stderr first, then ``stdout``), for a note."""
    lines = proc.stderr.strip().splitlines() or (proc.stdout.strip().splitlines() if stdout
                                                 else [])
    return (lines or ["no output"])[-1]


def run_command(argv: Sequence[str], *, env: dict[str, str] | None = None,
        cwd: str | Path | None = None, stdin: str | None = None) -> str:
    """Run a command to completion; its stdout, or ``RuntimeError`` naming it and its last line.

    ``env`` is the whole environment (default: this one). Without ``stdin`` the command reads
    nothing (a command that would prompt fails instead of waiting).
    """
    proc = subprocess.run(list(argv), cwd=str(cwd) if cwd else None, env=env, text=True,
                          capture_output=True, input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)[:120]}` exited {proc.returncode}: "
                           f"{tail(proc)[:200]}")
    return proc.stdout


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """``clean_env(extra)`` with this checkout first on ``PYTHONPATH`` (for ``-m bench.*``)."""
    env = clean_env(extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def python_result(argv: Sequence[str], *, env: dict[str, str], cwd: str | Path | None = None,
                  timeout: float = 1800) -> dict[str, Any]:
    """``python ARGV`` in a fresh interpreter with ``env`` exactly; the result dict it hands
    over (``emit``), or ``{"error": ...}``."""
    try:
        proc = subprocess.run([sys.executable, *argv], cwd=str(cwd) if cwd else None, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
            return result
    return {"error": f"exit {proc.returncode}: {tail(proc, stdout=False)[:300]}"}


def run_worker(task: str, args: dict[str, Any], *, cwd: str | Path | None = None,
               env: dict[str, str] | None = None, timeout: float = 1800) -> dict[str, Any]:
    """Run ``bench.worker`` TASK in a fresh interpreter; its result dict (or ``{"error": ...}``)."""
    return python_result(["-m", "bench.worker", task, json.dumps(args)], env=worker_env(env),
                         cwd=cwd, timeout=timeout)


def emit(result: dict[str, Any]) -> None:
    """Worker side: hand ``result`` to the parent."""
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result), flush=True)


def answer(task: Callable[[dict[str, Any]], dict[str, Any]], raw: str) -> int:
    """Worker side: ``task`` of the JSON arguments ``raw``, its result (or its error) emitted;
    the exit status."""
    try:
        result = task(json.loads(raw))
    except Exception as exc:
        traceback.print_exc()
        emit({"error": f"{type(exc).__name__}: {exc}"[:500]})
        return 1
    emit(result)
    return 0


def first_and_median(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """In-process timing: (the first call, the median of ``repeats`` more, the last result)."""
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), result


def time_command(argv: Sequence[str], *, repeats: int, env: dict[str, str] | None = None,
                 cwd: str | Path | None = None) -> dict[str, Any]:
    """Wall time of a command: one warm-up, then the median of ``repeats`` runs."""
    times = []
    last: subprocess.CompletedProcess[str] | None = None
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        last = subprocess.run(list(argv), capture_output=True, text=True, env=clean_env(env),
                              cwd=str(cwd) if cwd else None)
        elapsed = time.perf_counter() - t0
        if i:
            times.append(elapsed)
        if last.returncode != 0:
            break
    assert last is not None
    result: dict[str, Any] = {"rc": last.returncode, "lines": len(last.stdout.splitlines())}
    if last.returncode != 0:
        result["error"] = f"exit {last.returncode}: {tail(last)[:200]}"
    else:
        result["median"] = statistics.median(times)
        result["times"] = times
    return result


# -- memory (Linux /proc) ---------------------------------------------------------------------

def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss_mb() -> float:
    try:
        return _status_kb("VmRSS") / 1024
    except (OSError, RuntimeError):  # not Linux: psutil (in the bench extra)
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20


def peak_rss_mb() -> float:
    """The RSS high-water mark (``VmHWM``, the same as ``getrusage().ru_maxrss``)."""
    try:
        return _status_kb("VmHWM") / 1024
    except (OSError, RuntimeError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def reset_peak_rss() -> bool:
    """Reset the high-water mark to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# -- formatting -------------------------------------------------------------------------------

def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mb(n_bytes: float | None) -> str:
    if n_bytes is None:
        return "-"
    return f"{n_bytes / 1e6:.2f} MB"


def fmt_ratio(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    if x < 0.1:
        return f"{x:.3f}×"
    return f"{x:.1f}×" if x < 100 else f"{x:.0f}×"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    lines = []
    for i, row in enumerate([headers, *rows]):
        cells = [str(c).ljust(w) if j == 0 else str(c).rjust(w)
                 for j, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append(indent + "  ".join(cells).rstrip())
        if i == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class Target:
    """One target of the issue, judged on a figure from this run."""

    name: str
    figure: str
    ok: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "MISS (not measured)"}[self.ok]


@dataclass
class Context:
    """What the sections share: the scale, the scratch folder, targets and results so far."""

    quick: bool
    repeats: int
    tmp: Path
    targets: list[Target]
    data: dict[str, Any]

    def out(self, text: str = "") -> None:
        print(text, flush=True)

    def progress(self, text: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def scratch(self, *parts: str) -> Path:
        path = self.tmp.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
