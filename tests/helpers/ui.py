"""``gittrack ui`` in its own process, for the command's and the browser's tests."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.servers import stop


@contextmanager
def serving(cwd: Path, *args: str) -> Iterator[list[str]]:
    """`gittrack ui --no-browser ARGS` run in ``cwd``; yields the lines it printed before
    serving (the URL first), stopped by its process id on the way out."""
    with subprocess.Popen([sys.executable, "-m", "gittrack", "ui", "--no-browser", *args],
                          cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        try:
            assert proc.stdout is not None
            lines: list[str] = []
            while not lines or "Ctrl-C" not in lines[-1]:
                line = proc.stdout.readline()
                assert line, "".join(lines)
                lines.append(line)
            yield lines
        finally:
            stop(proc)  # type: ignore[arg-type]


def base_url(lines: list[str]) -> str:
    """The loopback URL `gittrack ui` printed first."""
    found = re.search(r"(http://127\.0\.0\.\d+:\d+/)", lines[0])
    assert found, lines
    return found.group(1)
