"""The encrypted, content-addressed file store of a project: files in and out by digest.

- ``vault``: ``BlobVault``, files in and out of the blob store (hash, dedup, encrypt, verify,
  caches), over ``gittrack.blobs`` and ``gittrack.crypto``; one API for every caller
  (artifacts, sync, gc, re-encryption and, next, run media);
- ``project``: ``open_storage``, the vault of a repository as its ``config``
  (``.gittrack/config.yaml``) and its keyring say; ``entry``: ``ManifestEntry``, a stored file;
- ``materialize``: writing a file into place, verified; ``references``: external objects;
- ``transfers`` and ``progress``: many transfers at once, reported to whoever draws them;
- ``reachability``: which blobs the refs need, asked of every kind of ref that names some.
"""
