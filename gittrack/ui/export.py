"""``gittrack ui --export DIR [RUN...]``: the pages of the UI as a static site, data embedded.

DIR gets ``index.html``, ``static/`` (the page's script and the vendored libraries) and
``data/``: the answers of the JSON API for the exported runs, each as a small script
(``data/runs.js``, ``data/run-<id>.js``, ``data/history-<id>-<x>.js`` and
``data/system-<id>-<x>.js`` for each x axis, ``data/histograms-<id>.js``) that a ``<script>``
tag loads, so the site works from ``file://`` as well as from any web server, with nothing to
run. Console output and saved
code are not exported (they may hold what the git data does not: a private project's are
encrypted); the page says so. The artifact pages are (``artifacts.js``, ``artifact-<name>.js``,
``version-<name>-<vN or alias>.js``): names, aliases, manifests and lineage are git data.
Histories are downsampled as the server does (``Reader.history``); zooming in an export
narrows the embedded points instead of fetching more. Read-only, as the server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gittrack.errors import OutputError, UsageError
from gittrack.ui.data import DEFAULT_POINTS, X_AXES, Reader

STATIC = Path(__file__).parent / "static"
MARKER = "export.js"
"""``data/export.js``: marks DIR as an export (one may be written over again)."""
APP_SCRIPT = '<script src="static/app.js" defer></script>'
EXPORT_CSP = ("default-src 'self'; img-src 'self' data: blob:; connect-src 'none'; "
              "object-src 'none'; base-uri 'none'; form-action 'none'")
"""The exported page's Content-Security-Policy (in a meta tag): scripts of the site only."""
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def export_site(repo: str | os.PathLike[str], directory: str | os.PathLike[str],
                runs: Sequence[str] = (),
                *, points: int = DEFAULT_POINTS) -> list[str]:
    """Write the static site of ``runs`` (ids, id prefixes or names; default: every run) to
    ``directory``; returns the ids exported. ``directory`` must be empty, missing, or an
    earlier export (replaced)."""
    target = Path(directory)
    data = target / "data"
    if target.exists() and any(target.iterdir()) and not (data / MARKER).is_file():
        raise UsageError(f"{target} is not empty and not a gittrack ui export: choose an empty "
                         "or new folder")
    reader = Reader(os.fspath(repo))
    listing = reader.runs()
    if runs:
        wanted = [reader.run(spec)["id"] for spec in runs]  # NotFoundError naming the run
        chosen = [row for row in listing["runs"] if row["id"] in set(wanted)]
    else:
        chosen = listing["runs"]
    try:
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        shutil.copytree(STATIC, target / "static", dirs_exist_ok=True)
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        if APP_SCRIPT not in page:
            raise AssertionError("index.html lost its app.js tag")
        page = page.replace(APP_SCRIPT, f'<script src="data/{MARKER}" defer></script>\n'
                                        f"{APP_SCRIPT}")
        # no server sends the CSP of a file opened from disk or an internal page: the page
        # carries it (frame-ancestors is not honoured in a meta tag)
        page = page.replace('<meta charset="utf-8">', '<meta charset="utf-8">\n'
                            f'<meta http-equiv="Content-Security-Policy" content="{EXPORT_CSP}">')
        (target / "index.html").write_text(page, encoding="utf-8")
        _write(data, MARKER.removesuffix(".js"), True, variable="GITTRACK_EXPORT")
        _write(data, "runs", {**listing, "runs": chosen, "path": None})
        for row in chosen:
            run_id = row["id"]
            detail = reader.run(run_id)
            _write(data, f"run-{run_id}", detail)
            _write(data, f"histograms-{run_id}", reader.histograms(run_id))
            if any(detail["artifacts"].values()):
                _write(data, f"graph-run-{run_id}", reader.run_lineage(run_id))
            for stream, kind, keys in (("default", "history", detail["keys"]),
                                       ("system", "system", detail["system_keys"])):
                for x in X_AXES if keys else ():
                    _write(data, f"{kind}-{run_id}-{x}", reader.history(
                        run_id, keys, points=points, x=x, stream=stream))
        _write_artifacts(reader, data)
    except OSError as exc:
        raise OutputError(f"cannot write the export to {target}: {exc}") from exc
    return [row["id"] for row in chosen]


def _write_artifacts(reader: Reader, data: Path) -> None:
    """The artifact pages: every artifact, its versions, each version with its lineage (data
    of git alone: names, aliases, manifests; no file is fetched)."""
    listing = reader.artifacts()
    _write(data, "artifacts", listing)
    for latest in listing["artifacts"]:
        name = latest["name"]
        versions = reader.artifact(name)
        _write(data, f"artifact-{name}", versions)
        for version in versions["versions"]:
            detail = reader.artifact_version(version["spec"])
            for selector in (f"v{version['version']}", *version["aliases"]):
                if _SAFE.fullmatch(selector):  # a file name on every system
                    _write(data, f"version-{name}-{selector}", detail)
            if _SAFE.fullmatch(f"v{version['version']}"):  # the page asks by number
                _write(data, f"graph-version-{name}-v{version['version']}",
                       reader.lineage(version["spec"]))


def _write(data: Path, name: str, value: Any, *, variable: str | None = None) -> None:
    """``data/<name>.js``: the value as a script (``GITTRACK_DATA[name] = ...``)."""
    body = json.dumps(value, separators=(",", ":"), allow_nan=False)
    if variable is not None:
        text = f"window.{variable} = {body};\n"
    else:
        text = ("(window.GITTRACK_DATA = window.GITTRACK_DATA || {})"
                f"[{json.dumps(name)}] = {body};\n")
    (data / f"{name}.js").write_text(text, encoding="utf-8")
