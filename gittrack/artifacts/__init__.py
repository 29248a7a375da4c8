"""Artifacts: versioned datasets and models whose bytes live in the blob store.

- ``artifact``: ``gittrack.Artifact``, the files to log (a plan; nothing is read yet);
- ``publish``: logging one (store the bytes, then commit the version, then move aliases);
- the bytes go in and out through ``gittrack.storage`` (``BlobVault``, ``open_storage``);
- ``versions`` and ``aliases``: the refs (``refs/gittrack/artifacts/<name>``,
  ``refs/gittrack/aliases/<name>/<alias>``); ``manifest``: ``manifest.parquet``;
- ``view``: ``ArtifactVersion``, one stored version, downloadable;
- ``references``: external objects recorded by checksum; ``reencrypt``: key rotation.

Which runs used a version is a question about runs: ``gittrack.runs.lineage`` answers it.
"""

from gittrack.artifacts.reachability import ARTIFACT_VERSIONS as _ARTIFACT_VERSIONS
from gittrack.storage import reachability as _reachability

# gc, purge, push and pull learn which blobs artifact versions need from the storage's one
# registry; registered with the package, so no caller can ask before it is known.
_reachability.register(_ARTIFACT_VERSIONS)
