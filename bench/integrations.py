"""Issue 12: what a logger costs a short Lightning training: ``GittrackLogger``, Lightning's
``WandbLogger`` (W&B offline) and no logger (``logger=False``), on the same small MLP.

Each variant trains in a fresh interpreter (``python -m bench.integrations VARIANT ARGS``):
torch and Lightning are imported and the data made before the clock starts; the clock covers
importing the logger (``wandb`` or gittrack's run machinery, both imported on first use), the
``Trainer(...)`` and ``fit()`` (the logger starts its run during ``fit``) and the end of the
run (``GittrackLogger`` finishes it in ``finalize``; ``wandb.finish()`` for W&B, whose logger
leaves it to the end of the process). Every step logs four metrics (``log_every_n_steps=1``);
no checkpoints are written. The variants run in turn, ``repeats`` times after a warm-up round;
the fastest run of each is compared with the fastest without a logger (medians printed too).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    Context,
    Target,
    answer,
    fmt_s,
    make_repo,
    median,
    python_result,
    table,
    worker_env,
)

VARIANTS = ("none", "gittrack", "wandb")
TARGET_RATIO = 5  # gittrack's overhead at most 1/5 of W&B's


def run(ctx: Context) -> None:
    steps = 100 if ctx.quick else 400
    # a few seconds of fixed costs against a noisy shared machine: never fewer than 3 each
    repeats = max(ctx.repeats, 3)
    ctx.progress(f"integrations: Lightning, {steps} steps, none / gittrack / wandb x {repeats}")
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    errors: dict[str, str] = {}
    for i in range(repeats + 1):  # round 0 warms the file cache (imports) and is not counted
        for variant in VARIANTS:
            where = ctx.scratch("integrations", f"{variant}-{i}")
            result = _train(variant, steps, where)
            if "error" in result:
                errors[variant] = result["error"]
            elif i:
                times[variant].append(result["seconds"])
    best = {v: min(t) if t else None for v, t in times.items()}
    medians = {v: median(t) if t else None for v, t in times.items()}
    overhead = _overheads(best)
    median_overhead = _overheads(medians)
    rows = []
    for v in VARIANTS:
        per_step = None if overhead[v] is None else overhead[v] / steps
        rows.append([_LABELS[v], fmt_s(best[v]), fmt_s(medians[v]),
                     "-" if v == "none" else fmt_s(overhead[v]),
                     "-" if v == "none" else fmt_s(median_overhead[v]),
                     "-" if v == "none" or per_step is None else fmt_s(per_step),
                     " ".join(fmt_s(t) for t in times[v])])
    ctx.out(f"### Lightning training, {steps} steps of a small MLP (4 metrics logged per "
            f"step), {repeats} fresh processes each (after one warm-up round)")
    ctx.out(table(["logger", "wall (min)", "wall (median)", "overhead (min)",
                   "overhead (median)", "per step (min)", "all runs"], rows))
    for v, e in errors.items():
        ctx.out(f"  {v}: {e}")
    ctx.out("  Overhead = wall time minus the same figure without a logger: importing the "
            "logger, starting the run, logging every step, finishing it. Judged on the fastest "
            "run of each (the least disturbed: interference only adds time); other processes "
            "share this machine's cores, so medians are noisy.")
    gt, wb = overhead["gittrack"], overhead["wandb"]
    ok = None if gt is None or wb is None else gt <= wb / TARGET_RATIO
    figure = ("-" if ok is None else
              f"gittrack {fmt_s(gt)} vs W&B {fmt_s(wb)} over no logger "
              f"({(gt / wb if wb else float('nan')):.3f} of W&B's)")
    ctx.targets.append(Target("integrations: Lightning logger overhead <= 1/5 of W&B's "
                              "(offline)", figure, ok))


def _overheads(walls: dict[str, float | None]) -> dict[str, float | None]:
    base = walls["none"]
    return {v: (m - base if m is not None and base is not None else None)
            for v, m in walls.items()}


_LABELS = {"none": "no logger (logger=False)", "gittrack": "GittrackLogger",
           "wandb": "WandbLogger (offline)"}


def _train(variant: str, steps: int, where: Path) -> dict[str, Any]:
    repo = make_repo(where / "repo")
    # Bytecode cached as after `pip install`, for every package alike (the warm-up round
    # writes it), even where the environment sets PYTHONDONTWRITEBYTECODE: otherwise gittrack,
    # installed editable, is compiled again at every start and wandb is not (bench/sync.py).
    env = worker_env({"WANDB_MODE": "offline", "WANDB_SILENT": "true",
                      "WANDB_DIR": str(where), "WANDB_CACHE_DIR": str(where / "cache"),
                      "WANDB_CONFIG_DIR": str(where / "config"), "GITTRACK_QUIET": "1",
                      "PYTHONDONTWRITEBYTECODE": "",
                      "PYTHONPYCACHEPREFIX": str(where.parent / "pycache")})
    return python_result(["-m", "bench.integrations", variant,
                          json.dumps({"steps": steps, "root": str(where)})],
                         env=env, cwd=repo, timeout=900)


# -- worker side ------------------------------------------------------------------------------

def _worker(variant: str, args: dict[str, Any]) -> dict[str, Any]:
    import warnings

    warnings.filterwarnings("ignore")
    import lightning.pytorch as pl
    import torch

    torch.set_num_threads(1)  # a tiny MLP gains nothing from threads; fewer fights for cores
    model, loader = _model_and_data(pl, torch)
    started = time.perf_counter()  # the logger's own imports count, for both loggers
    logger: Any = False
    if variant == "gittrack":
        from gittrack.integrations.lightning import GittrackLogger

        logger = GittrackLogger(project="bench", config={"hidden": 64, "lr": 0.01})
    elif variant == "wandb":
        from lightning.pytorch.loggers import WandbLogger

        logger = WandbLogger(project="bench", config={"hidden": 64, "lr": 0.01})
    trainer = pl.Trainer(max_steps=args["steps"], logger=logger, log_every_n_steps=1,
                         accelerator="cpu", devices=1, default_root_dir=args["root"],
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model, loader)
    if variant == "wandb":
        import wandb

        wandb.finish()
    return {"seconds": time.perf_counter() - started}


def _model_and_data(pl: Any, torch: Any) -> tuple[Any, Any]:
    class MLP(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(),
                                           torch.nn.Linear(64, 10))

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            logits = self.net(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            acc = (logits.argmax(1) == y).float().mean()
            self.log_dict({"train/loss": loss, "train/acc": acc,
                           "train/logit_norm": logits.norm(), "train/batch": float(batch_idx)})
            return loss

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64 * 32, 32, generator=g)
    y = torch.randint(0, 10, (64 * 32,), generator=g)
    data = torch.utils.data.TensorDataset(x, y)
    torch.manual_seed(0)
    return MLP(), torch.utils.data.DataLoader(data, batch_size=32)


if __name__ == "__main__":
    os.environ.setdefault("GITTRACK_QUIET", "1")
    sys.exit(answer(lambda a: _worker(sys.argv[1], a), sys.argv[2]))
