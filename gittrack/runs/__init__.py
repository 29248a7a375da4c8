"""Runs: the live run object, its write-ahead log and checkpoints, and reading runs back."""

from gittrack.runs.reachability import RUN_FILES as _RUN_FILES
from gittrack.storage import reachability as _reachability

# gc, purge, push and pull learn which blobs runs need (media, console, saved code) from the
# storage's one registry; registered with the package, so no caller can ask before it is known.
_reachability.register(_RUN_FILES)
