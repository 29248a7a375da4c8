"""Content-addressed blob storage over fsspec, the local plaintext cache and the stat cache.

The store never sees keys: encryption is a layer above (``gittrack.crypto``), composed in
``gittrack.storage.vault``.
"""
