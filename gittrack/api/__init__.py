"""The facade: ``init``/``log``/``finish`` for training scripts and ``Api`` for reading runs."""
