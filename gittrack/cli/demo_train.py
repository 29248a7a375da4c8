"""What `gittrack demo` trains: a tiny numpy MLP telling apart two interleaved half-moons."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gittrack.formats.histogram import Histogram

if TYPE_CHECKING:
    import numpy.typing as npt

    from gittrack.runs.live import Run

    Array = npt.NDArray[np.float64]

EVAL_EVERY = 10
HISTOGRAM_EVERY = 25


@dataclasses.dataclass(frozen=True, slots=True)
class DemoConfig:
    steps: int = 300
    lr: float = 0.5
    hidden: int = 16
    batch_size: int = 64
    samples: int = 1000
    noise: float = 0.2
    seed: int = 0


def two_moons(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    """Points on two interleaved half circles with Gaussian noise; label 1 for the lower one."""
    angle = rng.uniform(0.0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + rng.normal(0.0, noise, (n, 2))
    return points, (~upper).astype(np.float64)


class Mlp:
    """2 inputs → ``hidden`` tanh units → 1 sigmoid output, trained by plain SGD."""

    def __init__(self, rng: np.random.Generator, hidden: int) -> None:
        self.w1: Array = rng.normal(0.0, 1.0, (2, hidden))
        self.b1: Array = np.zeros(hidden)
        self.w2: Array = rng.normal(0.0, 1.0 / math.sqrt(hidden), hidden)
        self.b2 = 0.0

    def forward(self, x: Array) -> tuple[Array, Array]:
        hidden = np.tanh(x @ self.w1 + self.b1)
        logits = np.clip(hidden @ self.w2 + self.b2, -30.0, 30.0)
        return hidden, 1.0 / (1.0 + np.exp(-logits))

    def evaluate(self, x: Array, y: Array) -> tuple[float, float]:
        return _loss_and_accuracy(self.forward(x)[1], y)

    def sgd_step(self, x: Array, y: Array, lr: float) -> tuple[float, float]:
        """One step on a batch; returns the batch's loss and accuracy before the step."""
        hidden, prob = self.forward(x)
        loss, acc = _loss_and_accuracy(prob, y)
        grad = (prob - y) / len(y)
        grad_hidden = np.outer(grad, self.w2) * (1.0 - hidden**2)
        self.w2 -= lr * (hidden.T @ grad)
        self.b2 -= lr * float(grad.sum())
        self.w1 -= lr * (x.T @ grad_hidden)
        self.b1 -= lr * grad_hidden.sum(axis=0)
        return loss, acc


def _loss_and_accuracy(prob: Array, y: Array) -> tuple[float, float]:
    """Binary cross-entropy and accuracy."""
    p = np.clip(prob, 1e-7, 1.0 - 1e-7)
    loss = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return float(loss), float(np.mean((prob > 0.5) == (y > 0.5)))


def cosine_lr(base: float, step: int, steps: int) -> float:
    return base * 0.5 * (1.0 + math.cos(math.pi * step / max(steps, 1)))


def train(run: Run, config: DemoConfig) -> None:
    """Train for ``config.steps`` steps, logging real metrics and a weight histogram."""
    rng = np.random.default_rng(config.seed)
    x, y = two_moons(rng, config.samples, config.noise)
    split = int(0.8 * config.samples)
    model = Mlp(rng, config.hidden)
    run.define_metric("val/acc", summary="max")
    for step in range(config.steps):
        data: dict[str, Any] = {}
        if step % EVAL_EVERY == 0 or step == config.steps - 1:
            val_loss, val_acc = model.evaluate(x[split:], y[split:])
            data.update({"val/acc": val_acc, "val/loss": val_loss})
        lr = cosine_lr(config.lr, step, config.steps)
        batch = rng.integers(0, split, config.batch_size)
        loss, acc = model.sgd_step(x[batch], y[batch], lr)
        data.update({"train/loss": loss, "train/acc": acc, "lr": lr})
        if step % HISTOGRAM_EVERY == 0:
            data["weights/hidden"] = Histogram(model.w1)
        run.log(data)
