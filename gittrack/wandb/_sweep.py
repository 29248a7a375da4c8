"""``wandb.sweep`` / ``wandb.agent``, run in this process: no sweep server.

``sweep(config)`` keeps the sweep's configuration in this process and returns its id;
``agent(sweep_id, function, count=)`` calls ``function`` once per trial. Inside it,
``wandb.init()`` starts a run whose config holds the trial's parameters (they win over the
script's own values, as in W&B), in group ``sweep-<id>``, with ``wandb.sweep_id`` in run.yaml;
a run the function leaves open is finished after it returns. Methods: ``grid`` (every
combination, in order), ``random`` and ``bayes`` (both sample at random: there is no model of
earlier results). Parameters: ``value``, ``values``, ``min``/``max`` and the distributions
``constant, categorical, int_uniform, uniform, log_uniform_values, q_uniform,
q_log_uniform_values, normal, log_normal``; nested ``parameters`` give nested dicts.
"""

from __future__ import annotations

import itertools
import math
import random
import secrets
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gittrack.errors import GittrackWarning, UsageError

_sweeps: dict[str, dict[str, Any]] = {}
_rng = random.Random(secrets.randbits(64))  # a script's random.seed() must not fix the trials
trial: dict[str, Any] | None = None
"""The parameters of the trial running now, read by ``init`` (``None`` outside an agent)."""
sweep_of_trial: str | None = None


def sweep(sweep: Any, entity: str | None = None, project: str | None = None,
          prior_runs: Any = None) -> str:
    """Keep a sweep configuration (a dict, or a function returning one); returns its id."""
    config = sweep() if callable(sweep) else sweep
    if not isinstance(config, Mapping):
        raise UsageError(f"sweep takes a dict of the sweep's configuration, got {config!r}")
    method = config.get("method", "random")
    if method not in ("grid", "random", "bayes"):
        raise UsageError(f"sweep method must be 'grid', 'random' or 'bayes', got {method!r}")
    if method == "bayes":
        warnings.warn("gittrack: sweep method 'bayes' samples at random here (no model of "
                      "earlier results)", GittrackWarning, stacklevel=2)
    parameters = config.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        raise UsageError("sweep: 'parameters' must map names to their specification")
    list(_trials(parameters, method, 1))  # a bad specification is refused now
    sweep_id = secrets.token_hex(4)
    _sweeps[sweep_id] = {**config, "project": project or config.get("project")}
    return sweep_id


def agent(sweep_id: str, function: Callable[[], Any] | None = None,
          entity: str | None = None, project: str | None = None,
          count: int | None = None) -> None:
    """Call ``function`` once per trial of sweep ``sweep_id`` (``count`` at most; a grid
    stops when every combination ran; ``random`` needs ``count``)."""
    global trial, sweep_of_trial
    config = _sweeps.get(sweep_id.rsplit("/", 1)[-1])
    if config is None:
        raise UsageError(f"no sweep {sweep_id!r} in this process: make it with wandb.sweep()")
    if function is None:
        raise UsageError("wandb.agent needs function= (the sweep's program is not started here)")
    method = config.get("method", "random")
    if count is None and method != "grid":
        raise UsageError(f"wandb.agent: a {method} sweep needs count= (how many trials)")
    from gittrack.wandb import _session

    for params in _trials(config.get("parameters") or {}, method, count):
        trial, sweep_of_trial = params, sweep_id
        try:
            function()
        finally:
            trial = sweep_of_trial = None
            run = _session.current_run()
            if run is not None and getattr(run, "sweep_id", None) == sweep_id:
                run.finish()


def _trials(parameters: Mapping[str, Any], method: str,
            count: int | None) -> Iterator[dict[str, Any]]:
    if method == "grid":
        names = list(parameters)
        grids = [_grid(name, parameters[name]) for name in names]
        combos: Iterator[tuple[Any, ...]] = itertools.product(*grids)
        yield from (dict(zip(names, c, strict=True))
                    for c in itertools.islice(combos, count))
        return
    for _ in range(count or 0):
        yield {name: _sample(name, spec) for name, spec in parameters.items()}


def _grid(name: str, spec: Any) -> list[Any]:
    spec = _spec(name, spec)
    if "parameters" in spec:
        nested = spec["parameters"]
        return list(_trials(nested, "grid", None))
    if "value" in spec:
        return [spec["value"]]
    if "values" in spec:
        return list(spec["values"])
    if isinstance(spec.get("min"), int) and isinstance(spec.get("max"), int) and \
            spec.get("distribution", "int_uniform") == "int_uniform":
        return list(range(spec["min"], spec["max"] + 1))
    raise UsageError(f"sweep parameter {name!r}: a grid needs 'value', 'values' or int min/max")


def _sample(name: str, spec: Any) -> Any:
    spec = _spec(name, spec)
    if "parameters" in spec:
        return {k: _sample(f"{name}.{k}", v) for k, v in spec["parameters"].items()}
    dist = spec.get("distribution")
    if "value" in spec and dist in (None, "constant"):
        return spec["value"]
    if "values" in spec and dist in (None, "categorical"):
        return _rng.choice(list(spec["values"]))
    low, high = spec.get("min"), spec.get("max")
    if dist is None:
        dist = "int_uniform" if isinstance(low, int) and isinstance(high, int) else "uniform"
    if dist in ("normal", "log_normal"):
        value = _rng.gauss(spec.get("mu", 0.0), spec.get("sigma", 1.0))
        return math.exp(value) if dist == "log_normal" else value
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or low > high:
        raise UsageError(f"sweep parameter {name!r}: needs numbers min <= max, got {spec!r}")
    if dist == "int_uniform":
        return _rng.randint(int(low), int(high))
    if dist in ("log_uniform_values", "q_log_uniform_values"):
        value = math.exp(_rng.uniform(math.log(low), math.log(high)))
    elif dist in ("uniform", "q_uniform"):
        value = _rng.uniform(low, high)
    else:
        raise UsageError(f"sweep parameter {name!r}: unknown distribution {dist!r}")
    if dist.startswith("q_"):
        q = spec.get("q", 1)
        value = round(value / q) * q
    return value


def _spec(name: str, spec: Any) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise UsageError(f"sweep parameter {name!r}: a dict such as {{'values': [...]}}, "
                         f"got {spec!r}")
    return spec
