"""``gittrack ui`` in its own process, for the command's and the browser's tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tests.helpers.servers import stop

if TYPE_CHECKING:
    import gittrack


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


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = "GITTRACK_TEST_ARTIFACTS"
"""The environment variable naming where browser tests keep their screenshots."""


def screenshots(test_name: str) -> Path:
    """The folder the screenshots of the browser test ``test_name`` are kept in, past the
    test's end (test artifacts a CI job uploads): ``$GITTRACK_TEST_ARTIFACTS/ui/<test>/``,
    by default ``<repository root>/test-artifacts/ui/<test>/`` (ignored by git). Emptied of
    the last run's screenshots first."""
    base = Path(os.environ.get(ARTIFACTS) or ROOT / "test-artifacts")
    folder = base / "ui" / re.sub(r"[^A-Za-z0-9._-]+", "_", test_name).strip("_")[:120]
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def base_url(lines: list[str]) -> str:
    """The loopback URL `gittrack ui` printed first."""
    found = re.search(r"(http://127\.0\.0\.\d+:\d+/)", lines[0])
    assert found, lines
    return found.group(1)


def log_everything(repo: Path, name: str = "everything",
                   html: str = "<p>an html report</p><script>alert(1)</script>") -> gittrack.Run:
    """A finished run of what a run page shows beyond metrics: an 8x8 image at steps 0-2
    (``samples``, captioned ``sample at N``), an image under a hostile key, a table at steps
    0-2 (``rows``: ``[[N, 2N]]``), ``loss``, then at step 3 a Vega-Lite chart (``curve``),
    a text item (``note``), an HTML item (``report``) and a WAV (``sound``); console output
    ``hello from the exported run`` and saved code with a patch (``print('changed')``).
    ``html``: the HTML item (by default with a script, which its sandboxed frame must not
    run)."""
    import numpy as np

    import gittrack
    import gittrack.plot
    from tests.helpers.code import make_dirty

    make_dirty(repo)
    run = gittrack.init(name=name, save_code=True, settings={"quiet": True, "console": "wrap"})
    print("hello from the exported run")
    for step in range(3):
        run.log({"samples": gittrack.Image(np.full((8, 8, 3), 80 * step, dtype=np.uint8),
                                           caption=f"sample at {step}"),
                 "../../escape/../x": gittrack.Image(np.zeros((2, 2, 3), dtype=np.uint8)),
                 "rows": gittrack.Table(columns=["a", "b"], data=[[step, step * 2.0]]),
                 "loss": 1.0 / (step + 1)})
    table = gittrack.Table(columns=["x", "y"], data=[[0, 1.0], [1, 3.0], [2, 2.0]])
    run.log({"curve": gittrack.plot.line(table, "x", "y", title="a vega curve"),
             "note": gittrack.Text("plain words"),
             "report": gittrack.Html(html),
             "sound": gittrack.Audio((0.5 * np.sin(np.arange(800) / 5)).astype(np.float32),
                                     sample_rate=8000)})
    run.finish()
    return run
