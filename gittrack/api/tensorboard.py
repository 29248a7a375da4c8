"""TensorBoard writers into the active run: the patch behind ``gittrack.tensorboard.patch()``.

As W&B does, the event writers themselves are patched — TensorBoard's
``tensorboard.summary.writer.event_file_writer.EventFileWriter`` (used by
``torch.utils.tensorboard.SummaryWriter``) and ``tensorboardX.event_file_writer.EventFileWriter``
— so every summary a ``SummaryWriter`` writes (``add_scalar``, ``add_scalars``,
``add_histogram``, ``add_image(s)``, ``add_figure``, ``add_text``...) is also decoded
(``gittrack.formats.tbevents``) and logged to the current run at the event's step::

    run = gittrack.init(sync_tensorboard=True)
    writer = SummaryWriter(f"runs/{run.name}")
    writer.add_scalar("charts/episodic_return", 12.5, global_step)   # run history too

Keys are the tags (``add_text``'s ``/text_summary`` suffix dropped) of the first log folder a
writer uses; another folder's tags get its path under that first folder as a prefix
(``add_scalars("loss", {"train": ...})`` writes to ``<logdir>/loss_train``: key
``loss_train/loss``; tensorboardX's ``<logdir>/loss/train``: ``loss/train/loss``), or its own
name if it is elsewhere (``val/loss``). With ``root_logdir``,
paths are taken under it instead (no prefix for ``root_logdir`` itself). The event files are
written as before.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from typing import Any

from gittrack.api.session import current_run
from gittrack.errors import GittrackError, GittrackWarning, UsageError
from gittrack.formats import tbevents

_WRITERS = {
    "pytorch": "tensorboard.summary.writer.event_file_writer",
    "tensorboardx": "tensorboardX.event_file_writer",
}
_lock = threading.Lock()
_patched: dict[str, tuple[type, Any]] = {}  # which -> (EventFileWriter class, original add_event)
_root: list[str | None] = [None]
_prefixes: dict[str, str] = {}  # log folder -> key prefix
_warned: set[str] = set()
_at_zero: dict[str, set[str]] = {}  # log folder -> keys written at step 0
_counted: set[str] = set()  # log folders whose writer gives no global_step


def patch(root_logdir: str | os.PathLike[str] | None = None, pytorch: bool | None = None,
          tensorboardx: bool | None = None, *, tensorboard_x: bool | None = None,
          save: bool = True) -> None:
    """Log what TensorBoard writers write to the active run as well (see the module's docs).

    ``pytorch`` (``torch.utils.tensorboard``, which needs the ``tensorboard`` package) and
    ``tensorboardx``: ``None`` patches the writer if its package is installed, ``True``
    requires it, ``False`` leaves it alone. ``UsageError`` if no writer could be patched.
    Calling it again changes only ``root_logdir``. W&B's spellings are accepted:
    ``tensorboard_x`` for ``tensorboardx``, ``root_logdir=""`` for none, and ``save`` (W&B
    uploads the event files; here they stay where the writer put them)."""
    if tensorboardx is None:
        tensorboardx = tensorboard_x
    wanted = {"pytorch": pytorch, "tensorboardx": tensorboardx}
    with _lock:
        _root[0] = os.path.abspath(os.fspath(root_logdir)) if root_logdir else None
        _reset()
        missing = []
        for which, want in wanted.items():
            if want is False or which in _patched:
                continue
            try:
                module = importlib.import_module(_WRITERS[which])
            except ImportError:
                missing.append(which)
                continue
            _patch_class(which, module.EventFileWriter)
        required = [w for w in missing if wanted[w]]
        if required or not _patched:
            raise UsageError(
                "sync_tensorboard: cannot patch "
                f"{' or '.join(required or missing)} (not installed): "
                "`pip install 'gittrack[tensorboard]'` (or tensorboardX)"
            )


def unpatch() -> None:
    """Undo ``patch()``: writers no longer log to gittrack."""
    with _lock:
        for cls, original in _patched.values():
            cls.add_event = original  # type: ignore[attr-defined]
        _patched.clear()
        _reset()


def _reset() -> None:
    _warned.clear()  # each patch() warns anew
    _prefixes.clear()
    _at_zero.clear()
    _counted.clear()


def patched() -> bool:
    """Whether ``patch()`` is in effect."""
    return bool(_patched)


def _patch_class(which: str, cls: type) -> None:
    original = cls.add_event  # type: ignore[attr-defined]

    def add_event(self: Any, event: Any) -> Any:
        result = original(self, event)
        try:
            _sync(self, event)
        except Exception as exc:  # the writer must go on: TensorBoard's file has the data
            _warn_once(f"error:{type(exc).__name__}",
                       f"gittrack: a TensorBoard event was not logged to the run: {exc}")
        return result

    add_event.__wrapped__ = original  # type: ignore[attr-defined]
    cls.add_event = add_event  # type: ignore[attr-defined]
    _patched[which] = (cls, original)


def _sync(writer: Any, event: Any) -> None:
    if not event.HasField("summary"):
        return
    decoded = tbevents.decode(event.summary)
    for tag, why in decoded.skipped.items():
        _warn_once(f"skip:{tag}", f"gittrack: TensorBoard tag {tag!r} {why}")
    if not decoded.values and not decoded.config:
        return
    run = current_run()
    if run is None:
        _warn_once("norun", "gittrack: TensorBoard events are written with no active run "
                            "(gittrack.init() first): they are not recorded in gittrack")
        return
    if decoded.config:  # add_hparams: the run's hyperparameters
        run.config.update(decoded.config)
    if not decoded.values:
        return
    logdir = _logdir(writer)
    prefix = _prefix(logdir, decoded.values)
    values = {f"{prefix}{k}": v for k, v in decoded.values.items()} if prefix else decoded.values
    try:
        step = int(event.step)
        if step == 0 and _stepless(logdir, values):
            run.log(values)  # a counter: each event a row of its own
        else:
            run.log(values, step=step)
    except GittrackError as exc:
        _warn_once(f"log:{type(exc).__name__}", f"gittrack: TensorBoard step {event.step} "
                   f"({', '.join(values)}) was not logged: {exc}")


def _stepless(logdir: str, values: dict[str, Any]) -> bool:
    """Whether ``logdir``'s writer gives no ``global_step``: TensorBoard writes step 0 then,
    and a key written at step 0 twice means the second time is a later step (W&B keeps the
    last value only). From then on each step-0 event of the folder is a row of its own."""
    with _lock:
        if logdir in _counted:
            return True
        seen = _at_zero.setdefault(logdir, set())
        if seen.isdisjoint(values):
            seen.update(values)
            return False
        _counted.add(logdir)
    run = current_run()
    if run is not None:
        run.log({}, commit=True)  # the values of step 0 are a row, not overwritten
    return True


def _logdir(writer: Any) -> str:
    getter = getattr(writer, "get_logdir", None)
    return os.path.abspath(str(getter() if callable(getter) else getattr(writer, "_logdir", "")))


def _prefix(logdir: str, tags: dict[str, Any]) -> str:
    """The key prefix of the log folder ``logdir`` (see the module's docstring)."""
    with _lock:
        known = _prefixes.get(logdir)
        if known is not None:
            return known
        parent = _series_parent(logdir, tags)
        if parent is not None:
            _place(parent)
        return _place(logdir)


def _series_parent(logdir: str, tags: dict[str, Any]) -> str | None:
    """The writer's own folder if ``logdir`` is one ``add_scalars(main_tag, ...)`` made for a
    series: PyTorch writes ``main_tag`` to ``<folder>/<main_tag>_<series>``, tensorboardX to
    ``<folder>/<main_tag>/<series>`` (before ``<folder>`` itself has a file)."""
    parent, name = os.path.split(logdir)
    for tag in tags:
        if name.startswith(tag.replace("/", "_") + "_"):
            return parent
        nested = os.sep + tag.replace("/", os.sep)
        if parent.endswith(nested) and len(parent) > len(nested):
            return parent[: -len(nested)]
    return None


def _place(logdir: str) -> str:
    """Give ``logdir`` its prefix (under ``_lock``): none for the first folder (or
    ``root_logdir``), else its path under that one, else its name."""
    known = _prefixes.get(logdir)
    if known is not None:
        return known
    root = _root[0] if _root[0] is not None else next(iter(_prefixes), logdir)
    rel = os.path.relpath(logdir, root)
    if rel == ".":
        prefix = ""
    elif rel.startswith(".."):
        prefix = os.path.basename(logdir) + "/"
    else:
        prefix = rel.replace(os.sep, "/") + "/"
    _prefixes[logdir] = prefix
    return prefix


def _warn_once(topic: str, message: str) -> None:
    if topic not in _warned:
        _warned.add(topic)
        warnings.warn(message, GittrackWarning, stacklevel=4)
