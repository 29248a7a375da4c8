"""Distinct types for distinct ids, so that mixing them up is a type error."""

from __future__ import annotations

from typing import NewType

RunId = NewType("RunId", str)
"""A run's id: lowercase, time-ordered, unique (see ``gittrack.runs.ids``)."""

CommitId = NewType("CommitId", str)
"""A git commit id as 40 hex digits."""

RefName = NewType("RefName", str)
"""A full git ref name such as ``refs/gittrack/runs/<id>``."""
