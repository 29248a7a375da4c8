"""TensorBoard into gittrack, both ways (docs/integrations/tensorboard.md).

- ``gittrack.tensorboard.patch(root_logdir=None, pytorch=None, tensorboardx=None)`` (what
  ``gittrack.init(sync_tensorboard=True)`` calls) and ``unpatch()``: what a
  ``SummaryWriter`` (``torch.utils.tensorboard`` or ``tensorboardX``) writes is logged to the
  active run too, at its step. The mechanism is in ``gittrack.api.tensorboard``.
- ``gittrack import tensorboard LOGDIR``: event files already written become runs
  (``gittrack.importers.tensorboard``).
"""

from __future__ import annotations

from gittrack.api.tensorboard import patch, patched, unpatch

__all__ = ["patch", "patched", "unpatch"]
