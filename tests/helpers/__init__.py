"""Helpers every test package shares (plain functions; the fixtures in the ``conftest.py``
files are thin wrappers over them). See docs/testing.md.

- ``repos``: git repositories, bare remotes, clones, refs and objects read with plain git.
- ``runs``: the one run factory (``make_run``) and its presets (``marked_run``, ``log_run``).
- ``processes``: child interpreters, and the training process that dies mid-run.
- ``servers``: moto S3, ``git daemon`` and sshd on 127.0.0.1 (no pytest: bench uses it too).
- ``storage``: the blob-store backends, artifact storage, projects configured to use them.
- ``cli``: the ``gittrack`` entry point run in-process.
- ``teams``: teammates on one remote (a purge after a pull).
- ``threads``: work run in threads started together, their failures collected.
- ``disks``, ``tables``, ``tools``, ``forge_runs``, ``forge_artifacts``: real disks, exact
  table comparison, external tools (age, ssh-keygen), hand-forged run and artifact commits.
"""
