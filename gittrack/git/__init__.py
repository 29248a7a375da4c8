"""The only door to git, reads included: objects (``objects``), refs by compare-and-swap
(``refs``, over the ``packedrefs`` transaction), history and ancestry (``history``), the config
(``config``), the ref namespace (``namespace``), and the ``git`` command line (``command``, used
by ``transport``, ``prune`` and config writes). No module outside this package imports pygit2
(``tests/test_structure.py``)."""
