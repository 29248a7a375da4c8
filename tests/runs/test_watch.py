"""``run.watch(model)`` on a small torch model: histograms at the right steps and keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gittrack
from gittrack.errors import InvalidValueError, NoActiveRunError

torch = pytest.importorskip("torch")

SETTINGS = {"quiet": True, "system_metrics": False}
PARAMS = ["0.weight", "0.bias", "2.weight", "2.bias"]


def model() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def train(run: gittrack.Run, net: Any, steps: int) -> None:
    """Each step: forward, backward, then ``log()`` of the loss (which commits the step)."""
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        optimizer.step()
        run.log({"loss": loss.item()})


def logged(run_id: str) -> dict[str, list[int]]:
    """Each histogram key and the steps it was logged at."""
    rows = gittrack.Api().run(run_id).histograms(format="arrow").to_pylist()
    steps: dict[str, list[int]] = {}
    for row in rows:
        steps.setdefault(row["key"], []).append(row["_step"])
    return steps


def watched(steps: int, **kwargs: Any) -> tuple[str, dict[str, list[int]]]:
    """A run that watches a new model with ``kwargs`` and trains it ``steps`` steps: its id
    and the histogram keys it logged, with their steps."""
    net = model()
    with gittrack.init(settings=SETTINGS) as run:
        run.watch(net, **kwargs)
        train(run, net, steps)
    return run.id, logged(run.id)


def test_gradients_every_log_freq_steps(repo: Path) -> None:
    run_id, steps = watched(7, log_freq=3)
    # the 3rd and 6th backward passes, joined to the step their loop iteration commits
    assert steps == {f"gradients/{name}": [2, 5] for name in PARAMS}
    history = gittrack.Api().run(run_id).history()
    assert list(history["_step"]) == list(range(7))  # one row per step: no extra steps


def test_log_all_gives_parameters_and_gradients(repo: Path) -> None:
    _, steps = watched(4, log="all", log_freq=2)
    assert set(steps) == {f"{kind}/{name}" for kind in ("gradients", "parameters")
                          for name in PARAMS}
    assert all(s == [1, 3] for s in steps.values())


def test_parameter_histograms_hold_the_weights(repo: Path) -> None:
    net = model()
    with gittrack.init(settings=SETTINGS) as run:
        run.watch(net, log="parameters", log_freq=1)
        x = torch.randn(2, 4)
        net(x)  # step 0: the weights as built
        run.log({"done": 1})
    row = next(r for r in gittrack.Api().run(run.id).histograms(format="arrow").to_pylist()
               if r["key"] == "parameters/2.weight")
    weights = net[2].weight.detach().flatten()
    assert sum(row["counts"]) == weights.numel() == 8
    assert row["edges"][0] == pytest.approx(float(weights.min()))
    assert row["edges"][-1] == pytest.approx(float(weights.max()))


def test_log_parameters_gives_no_gradients(repo: Path) -> None:
    _, steps = watched(2, log="parameters", log_freq=1)
    assert steps == {f"parameters/{name}": [0, 1] for name in PARAMS}


def test_log_none_hooks_nothing(repo: Path) -> None:
    assert watched(2, log=None, log_freq=1)[1] == {}


def test_unwatch_stops_them(repo: Path) -> None:
    net = model()
    with gittrack.init(settings=SETTINGS) as run:
        run.watch(net, log="all", log_freq=1)
        train(run, net, 2)
        run.unwatch(net)
        train(run, net, 2)
    assert all(s == [0, 1] for s in logged(run.id).values())
    assert not net._forward_hooks and all(not p._backward_hooks for p in net.parameters())


def test_unwatch_without_a_model_removes_every_hook(repo: Path) -> None:
    a, b = model(), model()
    with gittrack.init(settings=SETTINGS) as run:
        run.watch([a, b], log="all", log_freq=1)
        train(run, b, 1)
        gittrack.unwatch()
        train(run, a, 1)
        train(run, b, 1)
    steps = logged(run.id)
    assert steps["gradients/graph_1.0.weight"] == [0] and "gradients/0.weight" not in steps
    assert not a._forward_hooks and not b._forward_hooks


def test_the_model_by_keyword(repo: Path) -> None:
    net = model()
    with gittrack.init(settings=SETTINGS) as run:
        run.watch(models=net, log_freq=1)  # W&B's name
        train(run, net, 1)
        run.unwatch(model=net)
        assert not any(p._backward_hooks for p in net.parameters())
        gittrack.watch(model=net, log="parameters", log_freq=1)
        with pytest.raises(InvalidValueError, match="not both"):
            run.unwatch(net, model=net)
        gittrack.unwatch(models=[net])
        train(run, net, 1)
    assert set(logged(run.id)) == {f"gradients/{name}" for name in PARAMS}


def test_module_level_watch_and_idx(repo: Path) -> None:
    net = model()
    with gittrack.init(settings=SETTINGS) as run:
        gittrack.watch(net, log_freq=1, idx=2)
        train(run, net, 1)
    assert set(logged(run.id)) == {f"gradients/graph_2.{name}" for name in PARAMS}


def test_watching_again_replaces_the_hooks(repo: Path) -> None:
    net = model()
    with gittrack.init(settings=SETTINGS) as run:
        run.watch(net, log_freq=1)
        run.watch(net, log="parameters", log_freq=1)
        train(run, net, 1)
    assert set(logged(run.id)) == {f"parameters/{name}" for name in PARAMS}


def test_hooks_of_a_finished_run_stay_silent(repo: Path) -> None:
    net = model()
    run = gittrack.init(settings=SETTINGS)
    run.watch(net, log="all", log_freq=1)
    run.finish()
    with gittrack.init(settings=SETTINGS) as second:
        train(second, net, 1)  # backward() through the first run's hooks: no error
    assert logged(second.id) == {}


@pytest.mark.parametrize("bad", [object(), "model", [], None, [torch.nn.Linear(1, 1), 3]])
def test_a_non_module_is_refused(repo: Path, bad: Any) -> None:
    with (gittrack.init(settings=SETTINGS) as run,
          pytest.raises(InvalidValueError, match=r"torch\.nn\.Module")):
        run.watch(bad)


@pytest.mark.parametrize("kwargs, named", [
    ({"log": "weights"}, "log"), ({"log_freq": 0}, "log_freq"), ({"log_freq": 1.5}, "log_freq"),
    ({"log_freq": True}, "log_freq"), ({"idx": -1}, "idx"),
])
def test_bad_arguments_are_refused(repo: Path, kwargs: dict[str, Any], named: str) -> None:
    with (gittrack.init(settings=SETTINGS) as run,
          pytest.raises(InvalidValueError, match=named)):
        run.watch(model(), **kwargs)


def test_watch_without_a_run(repo: Path) -> None:
    with pytest.raises(NoActiveRunError, match="watch"):
        gittrack.watch(model())


def test_gittrack_imports_and_refuses_without_torch(repo: Path) -> None:
    code = ("import sys, gittrack\n"
            "run = gittrack.init(settings={'quiet': True, 'system_metrics': False})\n"
            "try:\n    run.watch(object())\nexcept gittrack.InvalidValueError as e:\n"
            "    print('refused', e)\n"
            "run.finish()\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[0].startswith("refused watch: expected a torch.nn.Module")
    assert out[1] == "False"
