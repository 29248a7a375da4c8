"""TensorBoard into gittrack: ``gittrack.tensorboard.patch()`` (and ``init(sync_tensorboard=True)``)."""

from __future__ import annotations
