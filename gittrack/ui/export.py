"""``gittrack ui --export DIR [RUN...]``: the pages of the UI as a static site, data embedded.

DIR gets ``index.html``, ``static/`` (the page's script and the vendored libraries),
``data/``: the answers of the JSON API for the exported runs, each as a small script
(``data/runs.js``, ``data/run-<id>.js``, ``data/history-<id>-<x>.js`` and
``data/system-<id>-<x>.js`` for each x axis, ``data/histograms-<id>.js``,
``data/panels-<id>.js``, ``data/media-<id>.js``, ``data/console-<id>.js``,
``data/code-<id>.js``) that a ``<script>`` tag loads, so the site works from ``file://`` as
well as from any web server, with nothing to run; and ``media/<id>/<n>.<format>``: the run's
images, audio and video (``n``: the row's place in the media index, ``format`` one of the
formats the page shows; nothing of a name comes from run data). Logged text and HTML items are
embedded in ``media-<id>.js`` (an HTML item is shown in a sandboxed ``srcdoc`` frame, never
as a page of the site's origin). The artifact pages are (``artifacts.js``,
``artifact-<name>.js``, ``version-<name>-<vN or alias>.js``): names, aliases, manifests and
lineage are git data. Histories are downsampled as the server does (``Reader.history``);
zooming in an export narrows the embedded points instead of fetching more; a chart's or
table's step slider offers up to ``PANEL_STEPS`` steps. Read-only, as the server.

Media, charts, tables, console output and saved code are blobs, encrypted for a private
project: they are exported decrypted when this user's key opens them (what the user saw in the
server), left out with ``public_only`` (``--public-only``), and left out, named in
``Exported.left_out``, when no key here opens them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gittrack.errors import CryptoError, GittrackError, OutputError, UsageError
from gittrack.ui.data import DEFAULT_POINTS, MEDIA_TYPES, TEXT_FILE_LIMIT, X_AXES, Reader

STATIC = Path(__file__).parent / "static"
MARKER = "export.js"
"""``data/export.js``: marks DIR as an export (one may be written over again)."""
APP_SCRIPT = '<script src="static/app.js" defer></script>'
EXPORT_CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self'; "
              "frame-src 'self'; connect-src 'none'; object-src 'none'; base-uri 'none'; "
              "form-action 'none'")
"""The exported page's Content-Security-Policy (in a meta tag): scripts, images, audio and
video of the site only."""
CONSOLE_TAIL = 200_000
"""The console output's last characters an export holds (what the run page asks for)."""
PANEL_STEPS = 50
"""A chart's or table's slider in an export offers at most this many of its steps."""
MEDIA = "media"
"""DIR's folder of media files: ``media/<run id>/<n>.<format>``."""
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SCRUB: ContextVar[_Scrubber | None] = ContextVar("_SCRUB", default=None)
"""The scrubber of the export being written (``_write`` applies it to every data file)."""
_LEFT_OUT = {"media": "media", "panels": "charts and tables", "console": "console output",
             "code": "saved code"}


@dataclass
class Exported:
    """What ``export`` wrote: the runs' ids; ``private``: the project is private;
    ``decrypted``: content a key opened is in the export (plaintext); ``left_out``: for
    each kind of content (``media``, ``panels``, ``console``, ``code``), the runs whose
    content is not in the export and why (the first reason)."""

    runs: list[str]
    private: bool = False
    decrypted: bool = False
    public_only: bool = False
    left_out: dict[str, list[str]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """One line for each thing the user should know (none for a plain export)."""
        lines = []
        if self.decrypted:
            lines.append("the export holds decrypted content of this private project (media, "
                         "charts, tables, console output, saved code): share it only with "
                         "those who may read the project (--public-only leaves it out)")
        if self.public_only:
            lines.append("left out the media, charts, tables, console output and saved code "
                         "of this private project (--public-only)")
        elif self.left_out:
            what = ", ".join(f"{_LEFT_OUT[kind]} of {len(runs)} run(s)"
                             for kind, runs in self.left_out.items())
            why = self.reasons[0].strip().splitlines()[0] if self.reasons else "unknown"
            lines.append(f"left out {what}: {why}")
        return lines


def export_site(repo: str | os.PathLike[str], directory: str | os.PathLike[str],
                runs: Sequence[str] = (),
                *, points: int = DEFAULT_POINTS) -> list[str]:
    """The ids of the runs ``export`` wrote (see there)."""
    return export(repo, directory, runs, points=points).runs


def export(repo: str | os.PathLike[str], directory: str | os.PathLike[str],
           runs: Sequence[str] = (), *, points: int = DEFAULT_POINTS,
           public_only: bool = False) -> Exported:
    """Write the static site of ``runs`` (ids, id prefixes or names; default: every run) to
    ``directory``. ``directory`` must be empty, missing, or an earlier export (replaced).
    ``public_only``: leave out what a private project keeps encrypted (media, charts and
    tables, console output, saved code)."""
    target = Path(directory)
    data = target / "data"
    if target.exists() and any(target.iterdir()) and not (data / MARKER).is_file():
        raise UsageError(f"{target} is not empty and not a gittrack ui export: choose an empty "
                         "or new folder")
    reader = Reader(os.fspath(repo))
    scrub = _Scrubber(os.fspath(repo))
    listing = reader.runs()
    if runs:
        wanted = [reader.run(spec)["id"] for spec in runs]  # NotFoundError naming the run
        chosen = [row for row in listing["runs"] if row["id"] in set(wanted)]
    else:
        chosen = listing["runs"]
    private = reader.private()
    result = Exported([row["id"] for row in chosen], private=private,
                      public_only=public_only and private)
    token = _SCRUB.set(scrub)
    try:
        for folder in (data, target / MEDIA):
            if folder.exists():
                shutil.rmtree(folder)
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
        details = {}
        for row in chosen:  # each run's folders known before any data is written
            details[row["id"]] = detail = reader.run(_safe(row["id"]))
            scrub.add_run(detail["metadata"])
        _write(data, "runs", {**listing, "runs": chosen, "path": None})
        for row in chosen:
            run_id = _safe(row["id"])
            detail = details.pop(run_id)
            _write(data, f"run-{run_id}", detail)
            _write(data, f"histograms-{run_id}", reader.histograms(run_id))
            if any(detail["artifacts"].values()):
                _write(data, f"graph-run-{run_id}", reader.run_lineage(run_id))
            for stream, kind, keys in (("default", "history", detail["keys"]),
                                       ("system", "system", detail["system_keys"])):
                for x in X_AXES if keys else ():
                    _write(data, f"{kind}-{run_id}-{x}", reader.history(
                        run_id, keys, points=points, x=x, stream=stream))
            _write_blobs(reader, target, run_id, result)
        _write_artifacts(reader, data)
    except OSError as exc:
        raise OutputError(f"cannot write the export to {target}: {exc}") from exc
    finally:
        _SCRUB.reset(token)
    return result


def _write_blobs(reader: Reader, target: Path, run_id: str, result: Exported) -> None:
    """A run's content kept in the store (encrypted for a private project): its charts and
    tables, media, console output and saved code, each left out (and named in ``result``)
    when no key here opens it, or with ``--public-only`` for a private project."""
    data = target / "data"
    parts: dict[str, Callable[[], Any]] = {
        "panels": lambda: _panels(reader, run_id),
        "media": lambda: _media(reader, target, run_id, result),
        "console": lambda: reader.console(run_id, CONSOLE_TAIL),
        "code": lambda: reader.code(run_id),
    }
    for kind, make in parts.items():
        if result.public_only:
            value: Any = None
            reason = "left out of this export (--public-only: the project is private)"
        else:
            try:
                value, reason = make(), ""
            except CryptoError as exc:
                value, reason = None, str(exc)
            except GittrackError as exc:  # a blob lost from the store: the rest still goes
                value, reason = None, f"{type(exc).__name__}: {exc}"
        if value is None:
            _left_out(result, kind, run_id, reason)
            value = {"run": run_id, "left_out": reason}
            if kind == "code":  # the commit and branch are git data: they stay
                value.update(reader.code_state(run_id))
        elif result.private and _holds_content(kind, value):
            result.decrypted = True
        _write(data, f"{kind}-{run_id}", value)


def _holds_content(kind: str, value: dict[str, Any]) -> bool:
    if kind == "console":
        return bool(value["text"])
    if kind == "code":
        return bool(value["saved"])
    if kind == "panels":
        return bool(value["charts"] or value["tables"] or value["more"])
    return any("file" in row or "text" in row for row in value["media"])


def _left_out(result: Exported, kind: str, run_id: str, reason: str) -> None:
    runs = result.left_out.setdefault(kind, [])
    if run_id not in runs:
        runs.append(run_id)
    if reason and not result.reasons:
        result.reasons.append(reason)


def _panels(reader: Reader, run_id: str) -> dict[str, Any]:
    """``panels-<id>``: the answer of ``/api/runs/{id}/panels`` (each key at its last
    exported step) and ``more``: the other exported steps, for the sliders."""
    charts: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    more: list[dict[str, Any]] = []
    for entry in reader.panel_steps(run_id, PANEL_STEPS):
        if entry["step"] != entry["steps"][-1]:
            more.append(entry)
        else:
            (charts if entry["kind"] == "chart" else tables).append(entry)
    return {"run": run_id, "charts": charts, "tables": tables, "more": more}


def _media(reader: Reader, target: Path, run_id: str, result: Exported) -> dict[str, Any]:
    """``media-<id>``: the run's media index, each row the page shows with its ``file``
    (``media/<id>/<n>.<format>``, copied from the verified plaintext) or, for a text or HTML
    item, its ``text``; a row whose file could not be had says why in ``left_out``."""
    answer = reader.media(run_id)
    rows = {row["path"]: row for row in answer["media"]}
    folder = target / MEDIA / run_id
    number = {row["path"]: n for n, row in enumerate(answer["media"])}
    for path, found in reader.media_copies(run_id):
        row = rows[path]
        if isinstance(found, GittrackError):
            row["left_out"] = str(found)
            _left_out(result, "media", run_id,
                      str(found) if isinstance(found, CryptoError)
                      else f"{type(found).__name__}: {found}")
            continue
        fmt = row["format"].lower()
        kind = MEDIA_TYPES[fmt]
        if kind.startswith("text/"):
            raw = found.read_bytes()
            text = raw.decode("utf-8", errors="replace") if len(raw) <= TEXT_FILE_LIMIT else None
            if text is None:
                row["left_out"] = f"larger than {TEXT_FILE_LIMIT} bytes"
            else:
                row["text"] = text
            continue
        name = f"{number[path]}.{fmt}"
        if not _SAFE.fullmatch(fmt):  # a format of MEDIA_TYPES: never reached
            raise AssertionError(f"media format {fmt!r} is not a file name")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, folder / name)
        row["file"] = f"{MEDIA}/{run_id}/{name}"
    return answer


def _safe(name: str) -> str:
    """``name`` (a run id, an artifact name: checked ref components) as a file name part."""
    if not _SAFE.fullmatch(name) or ".." in name:
        raise OutputError(f"cannot export {name!r}: not a plain file name")
    return name


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


class _Scrubber:
    """What makes a value fit to share: every string with a local folder written as a mark,
    keys included, whole paths only (``/home/me`` in ``/home/me2/x`` stays): this
    repository's folder (its working tree and git folder, as given and resolved) and the
    working folder each exported run recorded become ``<repo>``, the home folder of this user
    and of the user a run recorded (``/home/<user>``, ``/Users/<user>``) ``~``, the folder of
    a run's program elsewhere ``<local>``. A warning keeps its message, a run's metadata its
    paths relative to those."""

    def __init__(self, repo: str) -> None:
        from gittrack.git.repo import discover

        found = discover(repo)
        self.places: dict[str, str] = {}
        git_dir = found.path.rstrip("/\\")
        workdir = (found.workdir or "").rstrip("/\\")
        # the git folder inside the working tree is "<repo>/.git", not the repository itself
        self.add(git_dir, f"<repo>/{os.path.basename(git_dir)}"
                 if workdir and os.path.dirname(git_dir) == workdir else "<repo>")
        for folder in (found.workdir, repo):
            self.add(folder, "<repo>")
        home = os.path.expanduser("~")
        self.add(home, "~")
        self._pattern: re.Pattern[str] | None = None

    def add(self, folder: str | None, mark: str) -> None:
        """Write ``folder`` (as given, absolute and resolved) as ``mark`` from now on."""
        if not folder or not os.path.isabs(folder):
            return
        for variant in (folder, os.path.abspath(folder), os.path.realpath(folder)):
            path = variant.rstrip("/\\")
            if len(path) > 1 and path not in self.places:  # never "/" itself
                self.places[path] = mark
                self._pattern = None

    def add_run(self, metadata: dict[str, Any]) -> None:
        """The folders a run's metadata records: its working folder, its user's home, and
        the folder of its program when that is elsewhere (``<local>``)."""
        cwd, user = metadata.get("cwd"), metadata.get("user")
        program = metadata.get("program")
        if isinstance(cwd, str):
            self.add(cwd, "<repo>")
        if isinstance(program, str) and os.path.isabs(program):
            self.add(os.path.dirname(program), "<local>")
        if isinstance(user, str) and _SAFE.fullmatch(user):
            for home in (f"/home/{user}", f"/Users/{user}"):
                if isinstance(cwd, str) and (cwd + "/").startswith(home + "/"):
                    self.add(home, "~")

    def text(self, value: str) -> str:
        if self._pattern is None:
            ordered = sorted(self.places, key=len, reverse=True)  # the longest first
            self._pattern = re.compile(
                "|".join(re.escape(path) for path in ordered) + r"(?![\w.-])")
        return self._pattern.sub(lambda m: self.places[m.group(0)], value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def _write(data: Path, name: str, value: Any, *, variable: str | None = None) -> None:
    """``data/<name>.js``: the value as a script (``GITTRACK_DATA[name] = ...``), its
    strings scrubbed of local paths (``_Scrubber``) when the export set one."""
    scrub = _SCRUB.get()
    if scrub is not None:
        value = scrub(value)
    # JSON.parse of a string, not an object literal: in a literal "__proto__": sets the
    # object's prototype instead of adding the key (a config key of that name would vanish)
    body = f"JSON.parse({json.dumps(json.dumps(value, separators=(',', ':'), allow_nan=False))})"
    if variable is not None:
        text = f"window.{variable} = {body};\n"
    else:
        text = ("(window.GITTRACK_DATA = window.GITTRACK_DATA || {})"
                f"[{json.dumps(name)}] = {body};\n")
    (data / f"{_safe(name)}.js").write_text(text, encoding="utf-8")
