"""Sharing and deletion: push/pull of refs/gittrack/* with their blobs, rm, gc, purge."""

# Push, pull, gc and purge ask ``storage.reachability`` which blobs the refs need; every kind
# of ref that stores blobs must have registered by then: artifact versions and runs register
# with their packages.
import gittrack.artifacts
import gittrack.runs  # noqa: F401  (media, console output and saved code)
