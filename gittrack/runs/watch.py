"""``run.watch(model)``: histograms of a torch model's gradients and parameters, via hooks.

As ``wandb.watch``: gradients through a hook on each parameter tensor (``gradients/<name>``,
``<name>`` as ``model.named_parameters()`` gives it: ``fc1.weight``), parameters through a
forward hook on the model (``parameters/<name>``). Each hook counts its calls and logs on
every ``log_freq``-th one (the ``log_freq``-th, the ``2·log_freq``-th, ...), with
``commit=False``: the histograms join the run's open step, the one the training loop's next
``log()`` commits. A model watched with ``idx`` ``N > 0`` (or the ``N``-th of several
models) has keys ``gradients/graph_N.<name>``.

torch is never imported here: a model is a torch module only if torch is already loaded (the
caller made the model with it) and the object is a ``torch.nn.Module``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gittrack.errors import InvalidValueError, RunFinishedError
from gittrack.formats.histogram import Histogram

if TYPE_CHECKING:
    from gittrack.runs.live import Run

LOG_CHOICES = ("gradients", "parameters", "all", None)

Log = Callable[[dict[str, Any]], None]
"""Logs ``{key: Histogram}`` at the run's open step (``commit=False``)."""


class Watch:
    """The hooks on one model; ``remove()`` takes every one of them off."""

    def __init__(self, model: Any, prefix: str, log: str | None, log_freq: int,
                 emit: Log) -> None:
        self.model = model
        self._emit = emit
        self._handles: list[Any] = []
        self._lock = threading.Lock()  # backward may run hooks in several threads
        if log in ("parameters", "all"):
            self._handles.append(model.register_forward_hook(
                self._parameters_hook(prefix, log_freq)))
        if log in ("gradients", "all"):
            for name, parameter in model.named_parameters():
                if parameter.requires_grad:
                    self._handles.append(parameter.register_hook(
                        self._gradient_hook(f"gradients/{prefix}{name}", log_freq)))

    def _parameters_hook(self, prefix: str, log_freq: int) -> Callable[..., None]:
        due = self._counter(log_freq)

        def hook(module: Any, inputs: Any, output: Any) -> None:
            if due():
                self._emit({f"parameters/{prefix}{name}": _histogram(parameter)
                            for name, parameter in module.named_parameters()})

        return hook

    def _gradient_hook(self, key: str, log_freq: int) -> Callable[[Any], None]:
        due = self._counter(log_freq)

        def hook(grad: Any) -> None:
            if due():
                self._emit({key: _histogram(grad)})

        return hook

    def _counter(self, log_freq: int) -> Callable[[], bool]:
        calls = [0]

        def due() -> bool:
            with self._lock:
                calls[0] += 1
                if calls[0] < log_freq:
                    return False
                calls[0] = 0
                return True

        return due

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


_watches: weakref.WeakKeyDictionary[Run, list[Watch]] = weakref.WeakKeyDictionary()


def watch(run: Run, models: Any, log: str | None = "gradients", log_freq: int = 1000,
          idx: int | None = None) -> None:
    """Hook ``models`` (a ``torch.nn.Module``, or a list or tuple of them) to log into
    ``run``; a model this run already watches is hooked again with the new arguments."""
    modules = _modules(models)
    if log not in LOG_CHOICES:
        raise InvalidValueError(
            f"watch: log must be 'gradients', 'parameters', 'all' or None, got {log!r}")
    if isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1:
        raise InvalidValueError(f"watch: log_freq must be an int >= 1, got {log_freq!r}")
    if idx is not None and (isinstance(idx, bool) or not isinstance(idx, int) or idx < 0):
        raise InvalidValueError(f"watch: idx must be an int >= 0, got {idx!r}")
    unwatch(run, modules)
    emit = _emitter(run)
    watches = _watches.setdefault(run, [])
    for offset, model in enumerate(modules):
        number = (idx or 0) + offset
        prefix = f"graph_{number}." if number else ""
        watches.append(Watch(model, prefix, log, log_freq, emit))


def unwatch(run: Run, models: Any = None) -> None:
    """Remove the hooks ``watch`` put on ``models`` (every model this run watches if
    ``None``)."""
    watches = _watches.get(run, [])
    chosen = None if models is None else {id(m) for m in _modules(models)}
    for w in [w for w in watches if chosen is None or id(w.model) in chosen]:
        w.remove()
        watches.remove(w)


def either(models: Any, model: Any) -> Any:
    """``models`` (W&B's name) or ``model``: the one given."""
    if models is not None and model is not None:
        raise InvalidValueError("watch: give the model as models= or model=, not both")
    return model if models is None else models


def _modules(models: Any) -> list[Any]:
    items: Iterable[Any] = models if isinstance(models, (list, tuple)) else [models]
    modules = list(items)
    torch = sys.modules.get("torch")  # not loaded: the object cannot be a torch module
    for model in modules:
        if torch is None or not isinstance(model, torch.nn.Module):
            raise InvalidValueError(
                f"watch: expected a torch.nn.Module (or a list of them), got "
                f"{type(model).__module__}.{type(model).__qualname__}")
    if not modules:
        raise InvalidValueError("watch: expected a torch.nn.Module, got an empty list")
    return modules


def _emitter(run: Run) -> Log:
    # The hooks hold the run weakly: a model outliving its run does not keep the run alive.
    ref = weakref.ref(run)

    def emit(data: dict[str, Any]) -> None:
        target = ref()
        # After finish() (or in a forked child) the hooks stay silent: the training loop of
        # a model still hooked must not fail in backward(). unwatch() removes them.
        if target is not None and not target._finished and not target._forked:
            with contextlib.suppress(RunFinishedError):  # finished in another thread since
                target.log(data, commit=False)

    return emit


def _histogram(tensor: Any) -> Histogram:
    values = tensor.detach()
    if values.is_sparse:
        values = values.coalesce().values()
    return Histogram(values.float())  # bfloat16 and half have no numpy type
