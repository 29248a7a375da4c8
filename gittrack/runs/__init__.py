"""Runs: the live run object, its write-ahead log and checkpoints, and reading runs back."""
