"""Part of section ``media`` (issue 11): console capture on a print-heavy loop.

In a fresh interpreter whose ``sys.stdout`` is a file (the target of ``python train.py >
log``), a loop prints ``PRINTS`` short lines; it is timed without any run ("plain"), then
inside a gittrack run capturing the console (the default), ``repeats`` times each,
alternately; the figure is the ratio of the medians of the loop's CPU time in its thread
(``time.thread_time``: the other jobs of a shared machine do not count; the capture does all
its work in that thread). Two loops:
``print(f"step {i} loss {x:.5f}")`` (one string: two ``write`` calls) and
``print("step", i, "loss", x)`` (four values: eight ``write`` calls, the worst case of a
per-write cost). ``finish()`` after the capturing loop is timed apart (it stores the output).
wandb offline's capture (its default) is measured the same way when installed, beside it,
with a tenth of the prints (it is much slower), its plain loops first (after a wandb run,
printing stays slower).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from bench.common import (
    Context,
    Target,
    answer,
    fmt_ratio,
    fmt_s,
    make_repo,
    python_result,
    table,
    worker_env,
)

PRINTS = 100_000
QUICK_PRINTS = 20_000
TARGET = 2.0
LOOPS = ("f-string", "four values")


# -- worker side ---------------------------------------------------------------------------------
def _loop(kind: str, prints: int) -> float:
    """The loop's CPU time in this thread (other work on the machine does not count)."""
    start = time.thread_time()
    if kind == "f-string":
        for i in range(prints):
            print(f"step {i} loss {1.0 / (i + 1):.5f}")
    else:
        for i in range(prints):
            print("step", i, "loss", 1.0 / (i + 1))
    return time.thread_time() - start


def worker(args: dict[str, Any]) -> dict[str, Any]:
    """Print into a file, with and without a capturing run; seconds per loop."""
    tool, prints, repeats = args["tool"], int(args["prints"]), int(args["repeats"])
    real = sys.stdout
    target = open(args["target"], "w")  # noqa: SIM115 - closed below, after every loop
    sys.stdout = target
    times: dict[str, dict[str, list[float]]] = {k: {"plain": [], "captured": []} for k in LOOPS}
    finish: list[float] = []
    try:
        for kind in LOOPS:
            _loop(kind, prints // 10)  # warm-up
            if tool != "gittrack":  # wandb leaves the streams slower after its run: before
                times[kind]["plain"] = [_loop(kind, prints) for _ in range(repeats)]
        for kind in LOOPS:
            for _ in range(repeats):
                if tool == "gittrack":  # alternately
                    times[kind]["plain"].append(_loop(kind, prints))
                run = _start(tool, args)
                times[kind]["captured"].append(_loop(kind, prints))
                start = time.perf_counter()
                _finish(tool, run)
                finish.append(time.perf_counter() - start)
    finally:
        sys.stdout = real
        target.close()
    return {"times": times, "finish": finish, "prints": prints}


def _start(tool: str, args: dict[str, Any]) -> Any:
    if tool == "gittrack":
        import gittrack

        return gittrack.init(repo=args["repo"], settings={"quiet": True})
    import wandb

    return wandb.init(project="bench-console", dir=args["dir"])


def _finish(tool: str, run: Any) -> None:
    run.finish()


# -- parent side -----------------------------------------------------------------------------------
def run(ctx: Context) -> None:
    """Prints this part's figures beside a baseline measured in the same run."""
    prints = QUICK_PRINTS if ctx.quick else PRINTS
    repeats = max(3, ctx.repeats)
    ctx.out(f"### console capture: a print loop into a file, CPU time, median of {repeats}")
    ctx.out()
    results: dict[str, dict[str, Any]] = {}
    tools = ["gittrack"]
    from bench.competitors import COMPETITORS

    wandb = next(c for c in COMPETITORS if c.key == "wandb")
    if wandb.installed():
        tools.append("wandb")
    for tool in tools:
        count = prints if tool == "gittrack" else prints // 10
        ctx.progress(f"media/console: {tool}")
        work = ctx.scratch("media-console", tool)
        repo = make_repo(work / "repo")
        env = worker_env(wandb.environment(work) if tool == "wandb" else None)
        results[tool] = python_result(
            ["-m", "bench.media_console", "worker",
             _json({"tool": tool, "prints": count, "repeats": repeats, "repo": str(repo),
                    "dir": str(work), "target": str(work / "out.log")})],
            env=env, cwd=work)
    rows = []
    ratios: dict[str, float | None] = {}
    for tool, result in results.items():
        label = "gittrack" if tool == "gittrack" else f"wandb {wandb.version()} offline"
        if "error" in result:
            rows.append([label, "-", "-", "-", "-", "-", f"error: {result['error'][:80]}"])
            continue
        for kind in LOOPS:
            plain = statistics.median(result["times"][kind]["plain"])
            captured = statistics.median(result["times"][kind]["captured"])
            ratio = captured / plain
            if tool == "gittrack":
                ratios[kind] = ratio
            rows.append([label, kind, f"{result['prints']:,}", fmt_s(plain), fmt_s(captured),
                         fmt_ratio(ratio), fmt_s(statistics.median(result["finish"]))])
    ctx.out(table(["tool", "print(...)", "prints", "plain", "captured", "ratio", "finish()"],
                  rows))
    ctx.out()
    ctx.out("(the machine is shared: other work running at the same time slows both loops)")
    ctx.out()
    for kind in LOOPS:
        ratio = ratios.get(kind)
        ctx.targets.append(Target(
            f"media: console capture, print({kind}) loop <= {TARGET:g}x plain printing",
            fmt_ratio(ratio) if ratio is not None else "not measured",
            None if ratio is None else ratio <= TARGET))


def _json(args: dict[str, Any]) -> str:
    import json

    return json.dumps(args)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(answer(worker, sys.argv[2]))
