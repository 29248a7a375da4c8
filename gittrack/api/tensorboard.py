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
``loss_train/loss``), or its own name if it is elsewhere (``val/loss``). With ``root_logdir``,
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


def patch(root_logdir: str | os.PathLike[str] | None = None, pytorch: bool | None = None,
          tensorboardx: bool | None = None) -> None:
    """Log what TensorBoard writers write to the active run as well (see the module's docs).

    ``pytorch`` (``torch.utils.tensorboard``, which needs the ``tensorboard`` package) and
    ``tensorboardx``: ``None`` patches the writer if its package is installed, ``True``
    requires it, ``False`` leaves it alone. ``UsageError`` if no writer could be patched.
    Calling it again changes only ``root_logdir``."""
    wanted = {"pytorch": pytorch, "tensorboardx": tensorboardx}
    with _lock:
        _root[0] = None if root_logdir is None else os.path.abspath(os.fspath(root_logdir))
        _prefixes.clear()
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
        _prefixes.clear()


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
    prefix = _prefix(writer)  # every event: the file_version event names a writer's folder first
    if not event.HasField("summary"):
        return
    decoded = tbevents.decode(event.summary)
    for tag, why in decoded.skipped.items():
        _warn_once(f"skip:{tag}", f"gittrack: TensorBoard tag {tag!r} {why}")
    if not decoded.values:
        return
    run = current_run()
    if run is None:
        _warn_once("norun", "gittrack: TensorBoard events are written with no active run "
                            "(gittrack.init() first): they are not recorded in gittrack")
        return
    values = {f"{prefix}{k}": v for k, v in decoded.values.items()} if prefix else decoded.values
    try:
        run.log(values, step=int(event.step))
    except GittrackError as exc:
        _warn_once(f"log:{type(exc).__name__}", f"gittrack: TensorBoard step {event.step} "
                   f"({', '.join(values)}) was not logged: {exc}")


def _prefix(writer: Any) -> str:
    """The key prefix of ``writer``'s log folder (see the module's docstring)."""
    getter = getattr(writer, "get_logdir", None)
    logdir = os.path.abspath(str(getter() if callable(getter) else getattr(writer, "_logdir", "")))
    with _lock:
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
