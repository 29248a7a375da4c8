"""Training scripts written for W&B, with only the import changed, run as real programs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import gittrack
from tests.helpers.repos import git

CHECKOUT = Path(gittrack.__file__).resolve().parent.parent

# nanoGPT's train.py, cut to what touches wandb (its config dict of globals, estimate_loss()
# returning 0-d tensors, the log call at each eval), on a tiny model.
NANOGPT = '''
import math
import torch
import gittrack.wandb as wandb   # was: import wandb

out_dir = "out"
eval_interval = 2
max_iters = 6
batch_size = 4
block_size = 8
learning_rate = 6e-4
decay_lr = True
device = "cpu"
dtype = "float32"
wandb_log = True
wandb_project = "owt"
wandb_run_name = "gpt2-tiny"
config_keys = [k for k, v in globals().items()
               if not k.startswith("_") and isinstance(v, (int, float, bool, str))]
config = {k: globals()[k] for k in config_keys}

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Embedding(16, 8), torch.nn.Linear(8, 16))
optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)

def get_batch():
    x = torch.randint(0, 16, (batch_size, block_size))
    return x, (x + 1) % 16

@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(2)
        for k in range(2):
            x, y = get_batch()
            losses[k] = torch.nn.functional.cross_entropy(model(x).view(-1, 16), y.view(-1))
        out[split] = losses.mean()
    model.train()
    return out

if wandb_log:
    wandb.init(project=wandb_project, name=wandb_run_name, config=config)
running_mfu = -1.0
for iter_num in range(max_iters + 1):
    lr = learning_rate * (0.5 * (1 + math.cos(math.pi * iter_num / max_iters)))
    if iter_num % eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        if wandb_log:
            wandb.log({
                "iter": iter_num,
                "train/loss": losses["train"],
                "val/loss": losses["val"],
                "lr": lr,
                "mfu": running_mfu * 100,
            })
    x, y = get_batch()
    loss = torch.nn.functional.cross_entropy(model(x).view(-1, 16), y.view(-1))
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    running_mfu = 0.01 * iter_num
'''


def _run_script(repo: Path, name: str, source: str, **env: str) -> subprocess.CompletedProcess[str]:
    (repo / name).write_text(source)
    environ = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(
        p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, name], cwd=repo, env=environ, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_nanogpt_style_script_records_every_metric(repo: Path) -> None:
    done = _run_script(repo, "train_gpt.py", NANOGPT)
    assert done.returncode == 0, done.stderr
    (view,) = gittrack.Api(repo).runs()
    assert (view.name, view.project, view.state) == ("gpt2-tiny", "owt", "finished")
    assert view.config["max_iters"] == 6 and view.config["wandb_project"] == "owt"
    history = view.history()
    assert list(history["iter"]) == [0, 2, 4, 6]
    for key in ("train/loss", "val/loss", "lr", "mfu"):
        assert history[key].notna().all(), key
    assert history["lr"].iloc[0] == pytest.approx(6e-4)
    assert "step 6: train loss" in view.console()  # the script's own output, captured


@pytest.mark.slow
def test_nanogpt_style_script_disabled_records_nothing(repo: Path) -> None:
    done = _run_script(repo, "train_gpt.py", NANOGPT, WANDB_MODE="disabled")
    assert done.returncode == 0, done.stderr
    assert git(repo, "for-each-ref", "refs/gittrack/") == ""
    assert not (repo / ".git" / "gittrack").exists()


CLEANRL = '''
import gittrack.wandb as wandb   # was: import wandb
from torch.utils.tensorboard import SummaryWriter

args = {"env_id": "CartPole-v1", "learning_rate": 2.5e-4, "seed": 1}
run_name = "CartPole-v1__ppo__1"
wandb.init(project="cleanRL", entity=None, sync_tensorboard=True, config=args,
           name=run_name, monitor_gym=True, save_code=True)
writer = SummaryWriter(f"runs/{run_name}")
writer.add_text("hyperparameters", "|param|value|")
for global_step in range(0, 50, 10):
    writer.add_scalar("charts/episodic_return", float(global_step), global_step)
    writer.add_scalar("losses/value_loss", 1.0 / (global_step + 1), global_step)
writer.close()
wandb.finish()
'''


@pytest.mark.slow
def test_cleanrl_style_script_records_its_summary_writer_metrics(repo: Path) -> None:
    pytest.importorskip("tensorboard")
    try:
        import gittrack.tensorboard  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pytest.skip("gittrack.tensorboard (sync_tensorboard) is not in this checkout")
    (repo / ".gitignore").write_text("runs/\n")
    done = _run_script(repo, "ppo.py", CLEANRL)
    assert done.returncode == 0, done.stderr
    (view,) = gittrack.Api(repo).runs()
    assert view.config == {"env_id": "CartPole-v1", "learning_rate": 2.5e-4, "seed": 1}
    assert view.metadata["wandb"]["sync_tensorboard"] is True
    history = view.history()
    assert list(history["charts/episodic_return"].dropna()) == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert view.metadata["code"]["saved"] is True
