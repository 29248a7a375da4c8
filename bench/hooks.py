"""Issue 13: what the pre-push hook adds to ``git push``, with 0, 100 and 1,000 runs in the
repository, in each ``gittrack.prePush`` mode (``all``, ``code``, ``off``).

The repository is the steady state of a team's clone: its runs were made on the current
branch's history (``code.commit`` an ancestor of what is pushed, each with its code ref) and
were pushed already. Each measurement commits once more and pushes the branch to a bare
remote by path: ``git push origin HEAD`` with the hook installed against ``git push
--no-verify origin HEAD`` (the same push, no hook) — alternating, one warm-up pair, then the
median of each. The overhead is the difference of the medians, judged against 0.2 s: that is
the target (the hook's cost on a push with nothing of gittrack's to send).

A second table is the push after a training: one new run made on the new commit before each
push (both sides), which the hook in ``all`` and ``code`` mode then sends — a fresh
interpreter starting gittrack and a second ``git push`` of the run: work, not overhead, shown
for what it costs (no target). Also printed: what starting the hook's interpreter and
importing gittrack's command line costs alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Context, Target, clean_env, fmt_s, git, make_repo, median, table
from bench.scale_data import make_runs

MODES = ("all", "code", "off")
LIMIT_S = 0.2


def run(ctx: Context) -> None:
    counts = (0, 100) if ctx.quick else (0, 100, 1000)
    repeats = max(ctx.repeats, 5)
    env = clean_env({"PYTHONDONTWRITEBYTECODE": "",
                     "PYTHONPYCACHEPREFIX": str(ctx.scratch("hooks", "pycache")),
                     "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
                     "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"})
    rows: list[list[str]] = []
    new_rows: list[list[str]] = []
    worst: dict[str, float] = {}
    made = [0]
    for count in counts:
        repo = _repository(ctx, count, env)
        made[0] = count
        for mode in MODES:
            ctx.progress(f"hooks: {count:,} runs, prePush {mode}, {repeats} pairs (+ new runs)")
            git(repo, "config", "gittrack.prePush", mode)
            plain, hooked = _pairs(repo, repeats, env)
            extra = median(hooked) - median(plain)
            worst[mode] = max(worst.get(mode, extra), extra)
            rows.append(_row(count, mode, plain, hooked))
            plain, hooked = _pairs(repo, repeats, env, made)
            new_rows.append(_row(count, mode, plain, hooked))
    headers = ["runs", "mode", "git push --no-verify", "git push (hook)", "overhead",
               f"<= {LIMIT_S} s"]
    ctx.out(f"### pre-push hook overhead on `git push` (branch to a bare remote by path), "
            f"runs already pushed, median of {repeats} pushes each")
    ctx.out(table(headers, rows))
    ctx.out()
    ctx.out(f"### the same with one new run on each pushed commit (the hook sends it in "
            f"`all` and `code` mode), median of {repeats} pushes each")
    ctx.out(table(headers, new_rows))
    ctx.out(f"  hook start alone: {_start_cost(env)} (a fresh interpreter importing gittrack's "
            "command line, what every hooked push pays before any work)")
    ctx.out("  Runs already on the remote (a team clone's steady state); other processes "
            "share this machine's 2 cores, so single figures are noisy.")
    for mode in MODES:
        extra = worst.get(mode)
        ctx.targets.append(Target(
            f"hooks: pre-push overhead on git push, mode {mode}, 0/100/1,000 runs <= 0.2 s",
            "-" if extra is None else f"worst {extra * 1000:+.0f} ms",
            None if extra is None else extra <= LIMIT_S))


def _repository(ctx: Context, count: int, env: dict[str, str]) -> Path:
    """A clone-like repository with ``count`` runs on its history, pushed, hook installed."""
    root = ctx.scratch("hooks", f"runs-{count}")
    repo = make_repo(root / "repo")
    head = git(repo, "rev-parse", "HEAD").strip()
    if count:
        make_runs(repo, count, code_commit=head)
        git(repo, "update-ref", f"refs/gittrack/code/{head}", head)  # as a run start writes
        git(repo, "pack-refs", "--all")  # as `git gc` leaves them (loose refs: see below)
    remote = root / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, env=env)
    git(repo, "remote", "add", "origin", str(remote))
    branch = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    git(repo, "push", "-q", "-u", "origin", branch)
    gittrack = [sys.executable, "-m", "gittrack", "-C", str(repo)]
    for args in (["push", "origin"], ["hooks", "install"]):
        done = subprocess.run([*gittrack, *args], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"gittrack {' '.join(args)}: {done.stderr.strip()[-300:]}")
    return repo


def _row(count: int, mode: str, plain: list[float], hooked: list[float]) -> list[str]:
    extra = median(hooked) - median(plain)
    return [f"{count:,}", mode, fmt_s(median(plain)), fmt_s(median(hooked)),
            f"{extra * 1000:+.0f} ms", "PASS" if extra <= LIMIT_S else "MISS"]


def _pairs(repo: Path, repeats: int, env: dict[str, str],
           made: list[int] | None = None) -> tuple[list[float], list[float]]:
    """Timed pushes with and without the hook; ``made`` (runs made so far, counted on): a new
    run on each new commit first, with its code ref, as a training leaves them."""
    plain: list[float] = []
    hooked: list[float] = []
    for i in range(repeats + 1):
        order = (False, True) if i % 2 else (True, False)
        for with_hook in order:
            subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m",
                            f"work {i} {with_hook}"], check=True, env=env)
            if made is not None:
                head = git(repo, "rev-parse", "HEAD").strip()
                make_runs(repo, 1, start=made[0], pack_refs=False, code_commit=head)
                made[0] += 1
                git(repo, "update-ref", f"refs/gittrack/code/{head}", head)
            argv = ["git", "-C", str(repo), "push", "-q",
                    *([] if with_hook else ["--no-verify"]), "origin", "HEAD"]
            t0 = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, env=env)
            took = time.perf_counter() - t0
            if done.returncode != 0 or "warning" in done.stderr:
                raise RuntimeError(f"{' '.join(argv[3:])}: {done.stderr.strip()[-300:]}")
            if i:
                (hooked if with_hook else plain).append(took)
    return plain, hooked


def _start_cost(env: dict[str, str]) -> str:
    times = []
    for _ in range(4):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import gittrack.cli.main"], check=True, env=env,
                       cwd=os.getcwd())
        times.append(time.perf_counter() - t0)
    return fmt_s(median(times[1:]))
