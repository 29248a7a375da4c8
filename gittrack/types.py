"""Distinct types for distinct ids, so that mixing them up is a type error."""

from __future__ import annotations

from typing import NewType

RunId = NewType("RunId", str)
"""A run's id: lowercase, time-ordered, unique (see ``gittrack.runs.ids``)."""

CommitId = NewType("CommitId", str)
"""A git commit id as 40 hex digits."""

RefName = NewType("RefName", str)
"""A full git ref name such as ``refs/gittrack/runs/<id>``."""

Digest = NewType("Digest", str)
"""The SHA-256 of a file's plain content, 64 lowercase hex digits: what a manifest entry names
(``gittrack.blobs.names.is_digest`` checks a string read from outside)."""

Checksum = NewType("Checksum", str)
"""What a remote reference's manifest entry records instead of a ``Digest``: the checksum its
store keeps, ``<kind>:<value>`` (``etag:...``, ``md5:...``); never a blob's name or a cache key."""

BlobName = NewType("BlobName", str)
"""A blob's name in the store: the digest for a public project, a keyed name for a private one
(see ``gittrack.crypto.keys.ProjectKeys.blob_name``, ``gittrack.blobs.names.public_blob_name``)."""
