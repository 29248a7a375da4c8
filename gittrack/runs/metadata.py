"""What gittrack records about the process a run ran in (host, user, OS, Python, command)."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import platform
import socket
import sys
from typing import Any

from gittrack._version import __version__


def utc_iso(timestamp: float) -> str:
    """``2026-11-26T16:46:54.123456Z``: ISO 8601 in UTC, sortable as text."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=dt.timezone.utc
    ).timestamp()


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return None


def environment() -> dict[str, Any]:
    argv = list(sys.argv)
    return {
        "host": socket.gethostname(),
        "user": _user(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "program": argv[0] if argv else None,
        "args": argv[1:],
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "gittrack_version": __version__,
    }
