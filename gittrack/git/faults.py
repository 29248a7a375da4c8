"""Fault injection for the crash tests: ``GITTRACK_FAULT=<point>`` makes the process kill
itself (SIGKILL, as a power cut or ``kill -9`` would) when it reaches ``point``.

Each point is a call to ``point("name")`` at a place where an interruption must leave the
repository, the remote and the store in a state the next command repairs; the tests set the
variable in a child process and check that repair. Unset (always, outside the tests), a point
costs one dictionary lookup. Points: ``purge.journal-written``, ``purge.refs-deleted``,
``purge.blob-deleted`` (``sync/purge.py``); ``prune.graph-dropped``,
``prune.object-unlinked``, ``prune.repacked`` (``git/prune.py``).
"""

from __future__ import annotations

import os
import signal

VARIABLE = "GITTRACK_FAULT"


def point(name: str) -> None:
    """Die here, now, if ``GITTRACK_FAULT`` names this point."""
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
