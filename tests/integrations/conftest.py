"""Keras runs on the torch backend in these tests (Keras reads KERAS_BACKEND once, when it is
first imported; only this folder imports it)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
