"""Entry points that git and pre-commit run: the pre-push hook (``prepush``), its install
into ``.git/hooks`` (``install``) and the pre-commit check for large files (``largefiles``).

Like ``cli``, this is the top of the layers: it may use any package below (``sync``, ``runs``,
``git``...), and only ``cli`` (``gittrack hooks ...``) imports it.
"""
