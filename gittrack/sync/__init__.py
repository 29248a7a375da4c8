"""Sharing and deletion: push/pull of refs/gittrack/* with their blobs, rm, gc, purge."""

# Push, pull, gc and purge ask ``storage.reachability`` which blobs the refs need; every kind
# of ref that stores blobs must have registered by then: artifact versions register with
# their package.
import gittrack.artifacts  # noqa: F401
