"""Sharing and deletion: push/pull of refs/gittrack/* with their blobs, rm, gc, purge."""
