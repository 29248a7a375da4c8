"""What the web UI shows, as JSON-ready values, read through ``gittrack.Api`` and nothing else
that writes: the answers of ``/api/runs``, ``/api/runs/{id}`` and ``/api/runs/{id}/history``.

Read-only: ``Api(recover=False)``, so a run whose process died is shown as the reader sees it
(``crashed`` at its last checkpoint, ``stale: true`` while its write-ahead log is not folded)
and never recovered here (``gittrack recover`` does that). A run being written is read at its
latest checkpoint; each request reads the refs again, so a live run's page moves on by polling.
No web framework here: the app (``gittrack.ui.app``) and a static export can share it.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittrack.api.public import Api
from gittrack.errors import GittrackError, GittrackWarning, NotFoundError, UsageError
from gittrack.formats.arrow import floats
from gittrack.runs.liveness import dead_logs
from gittrack.ui import downsample

if TYPE_CHECKING:
    import pyarrow as pa

    from gittrack.artifacts.view import ArtifactVersion
    from gittrack.git.repo import Repository
    from gittrack.runs.artifact_runs import LineageGraph
    from gittrack.runs.view import RunView

X_AXES = ("_step", "_runtime", "_timestamp")
"""The x axes every history row has (step, relative time, wall time); any numeric key works."""
DEFAULT_POINTS = 2_000
MAX_KEYS = 200
"""At most this many keys in one history request."""
STREAMS = ("default", "system")
"""``stream=system``: the system metrics (W&B's name), sampled as the history is."""
CONSOLE_TAIL = 1_000_000
"""The console answer holds at most its last this many characters (``truncated``)."""
TEXT_FILE_LIMIT = 1_000_000
"""A saved code file larger than this is listed, not shown."""
MEDIA_TYPES = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "bmp": "image/bmp",
    "mp4": "video/mp4", "webm": "video/webm", "ogv": "video/ogg",
    "wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac",
    "txt": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8",
}
"""Stored media formats the page shows, by their content type (others are listed only)."""
ARTIFACT_FILES = 1_000
"""At most this many files of a version are listed (the first, by path; ``file_count``)."""
TABLE_ROWS = 1_000
"""At most this many rows of a logged table (or a chart's data) in one answer."""
HISTOGRAM_STEPS = 200
"""At most this many steps of each histogram in one answer (evenly chosen, last included)."""
LINEAGE_DEPTH = 4
"""Hops of a lineage graph by default (dataset → run → model → run → report from either end
takes 4)."""
LINEAGE_NODES = 200
"""Nodes of a lineage graph by default (``artifact_runs.MAX_NODES`` at most)."""
FIELDS_CACHED = 64
"""Runs (by commit and stream) whose history columns are kept in memory (a few KB each)."""
PIECES_CACHED = 16_000_000
"""Points (x and y: 16 bytes each) of chunks' and overviews' series kept in memory."""
SKIP, OVERVIEW, FULL = "skip", "overview", "full"
"""How ``Reader.history`` reads a chunk: not at all (outside the window), its overview, or
whole."""


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON (``JSON.parse`` knows no NaN): non-finite floats as the
    strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, anything else unknown as its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return str(value)


@dataclass
class Reader:
    """The repository at ``repo``, read for the UI; safe to share between request threads
    (one read at a time: pygit2 objects and ``warnings`` are process-wide)."""

    repo: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _series: OrderedDict[tuple[str, str, str, str], tuple[Any, Any]] = field(
        default_factory=OrderedDict, repr=False)
    cached_series: int = 16
    """Series kept in memory (x and y arrays, finite and sorted), by commit, stream, x axis
    and key (a commit never changes), for zooming and for the next request."""
    _fields: OrderedDict[tuple[str, str], tuple[list[pa.Field], int]] = field(
        default_factory=OrderedDict, repr=False)
    _raw: OrderedDict[tuple[str, str], Any] = field(default_factory=OrderedDict, repr=False)
    """The chunk files of the last run read (by commit, for each stream; ``store.ChunkFiles``
    keeps what it read): its page asks for its keys, then for a chart, then zooms, and each
    blob is read from git once."""
    _pieces: OrderedDict[tuple[str, ...], tuple[Any, Any]] = field(
        default_factory=OrderedDict, repr=False)
    """One key's finite points against an x axis in one chunk or overview (by commit,
    stream, chunk, kind, x and key), at most ``PIECES_CACHED`` points in all."""
    _piece_points: int = field(default=0, repr=False)
    _ranges: OrderedDict[tuple[str, ...], tuple[float, float] | None] = field(
        default_factory=OrderedDict, repr=False)
    """The x range of each overview read (by commit, stream, chunk and x)."""
    _listing: tuple[Any, dict[str, Any]] | None = field(default=None, repr=False)
    """The last ``/api/runs`` answer and the refs and dead logs it was made from."""

    @contextmanager
    def _api(self) -> Iterator[tuple[Api, list[str]]]:
        """An ``Api`` over the repository and the gittrack warnings reading gave."""
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GittrackWarning)
            notes: list[str] = []
            yield Api(self.repo), notes
            notes.extend(str(w.message) for w in caught
                         if issubclass(w.category, GittrackWarning))

    def runs(self) -> dict[str, Any]:
        """``/api/runs``: every readable run, newest first. The answer is kept while no run
        ref moves and no writer dies (a page polling 10,000 runs costs a listing of refs)."""
        from gittrack.git.repo import discover
        from gittrack.runs.store import runs_and_invalid

        with self._lock:
            repo = discover(self.repo)
            valid, invalid = runs_and_invalid(repo)
            state = (frozenset(valid.items()), frozenset(invalid.items()),
                     frozenset(log.run_id for log in dead_logs(repo)))
            if self._listing is not None and self._listing[0] == state:
                return self._listing[1]
        with self._api() as (api, notes):
            views = api.runs()
            stale = state[2]
            rows = []
            for view in views:
                try:
                    rows.append(_row(view, view.id in stale))
                except GittrackError as exc:  # checked on first read: left out, named
                    notes.append(f"skipping run {view.id}: {exc}")
        answer = {"runs": rows, "warnings": notes, "path": self.repo}
        with self._lock:
            self._listing = (state, answer)
        return answer

    def run(self, spec: str) -> dict[str, Any]:
        """``/api/runs/{id}``: one run (id, unique id prefix or name) with its config, summary,
        metadata and the keys of its history. ``NotFoundError`` when there is no such run."""
        with self._api() as (api, notes):
            view = api.run(spec)
            stale = any(log.run_id == view.id for log in dead_logs(view.repo))
            row = _row(view, stale)
            fields, steps = self._columns(view)
            system, _ = self._columns(view, "system")
            info = view.info
            row.update(metadata=jsonable(view.metadata),
                       keys=_numeric_keys(fields), steps=steps,
                       system_keys=_numeric_keys(system),
                       artifacts={kind: list(specs) for kind, specs in info.artifacts.items()},
                       code_saved=bool((info.code or {}).get("saved")))
        row["warnings"] = notes
        return row

    def console(self, spec: str, tail: int = CONSOLE_TAIL) -> dict[str, Any]:
        """``/api/runs/{id}/console``: what the run printed, its last ``tail`` characters
        (clamped to ``CONSOLE_TAIL``)."""
        tail = max(0, min(CONSOLE_TAIL, tail))
        with self._api() as (api, _notes):
            view = api.run(spec)
            text = view.console()
        shown = text[-tail:] if tail else ""
        return {"run": view.id, "text": shown, "length": len(text),
                "truncated": len(shown) < len(text)}

    def code_state(self, spec: str) -> dict[str, Any]:
        """The code state ``run.yaml`` records (commit, branch, dirty, remote): git data, with
        no saved file (what an export keeps when the saved code is left out)."""
        with self._api() as (api, _notes):
            return dict(jsonable(dict(api.run(spec).info.code or {})))

    def code(self, spec: str) -> dict[str, Any]:
        """``/api/runs/{id}/code``: the code state of ``run.yaml`` (commit, branch, dirty,
        remote) and, when the run saved code, its files (text up to ``TEXT_FILE_LIMIT``
        characters each), the patch and the packages."""
        with self._api() as (api, _notes):
            view = api.run(spec)
            state = dict(view.info.code or {})
            saved = view.code()
        files = []
        for name, data in (saved.files.items() if saved is not None else ()):
            text = _text(data)
            files.append({"name": name, "size": len(data),
                          "text": text if text is not None and len(text) <= TEXT_FILE_LIMIT
                          else None})
        return {"run": view.id, **jsonable(state), "saved": saved is not None,
                "entrypoint": saved.entrypoint if saved is not None else None,
                "patch": _text(saved.patch) if saved is not None and saved.patch else None,
                "packages": saved.packages if saved is not None else [], "files": files}

    def artifacts(self) -> dict[str, Any]:
        """``/api/artifacts``: the latest version of every artifact, by name."""
        with self._api() as (api, notes):
            rows = [_version_row(v) for v in sorted(api.artifacts(), key=lambda v: v.name)]
        return {"artifacts": rows, "warnings": notes}

    def artifact(self, name: str) -> dict[str, Any]:
        """``/api/artifacts/{name}``: every version of artifact ``name``, newest first."""
        with self._api() as (api, _notes):
            rows = [_version_row(v) for v in api.artifacts(name)]
        return {"name": name, "versions": rows}

    def artifact_version(self, spec: str) -> dict[str, Any]:
        """``/api/artifacts/{name}/{version}`` (``spec`` ``name:v3``, ``name:latest``,
        ``name:<alias>``): the version, its first files, and its lineage: the run that logged
        it and the runs that used it."""
        with self._api() as (api, _notes):
            version = api.artifact(spec)
            producer = api.logged_by(version)
            consumers = api.used_by(version)
            files = version.first_files(ARTIFACT_FILES)
            row = _version_row(version)
            row.update(
                description=version.description, metadata=jsonable(version.metadata),
                files=[{"path": f.path, "size": f.size, "digest": str(f.digest),
                        "ref": f.ref} for f in files],
                logged_by=_run_link(producer) if producer is not None else None,
                used_by=[_run_link(run) for run in consumers])
        return row

    def lineage(self, spec: str, depth: int = LINEAGE_DEPTH,
                nodes: int = LINEAGE_NODES) -> dict[str, Any]:
        """``/api/artifacts/{name}/{version}/lineage``: the lineage graph around a version
        (``spec`` as for ``artifact_version``), ``depth`` hops (clamped to 0 ..
        ``artifact_runs.MAX_DEPTH``), at most ``nodes`` nodes (1 .. ``MAX_NODES``)."""
        from gittrack.git.repo import discover
        from gittrack.runs.artifact_runs import lineage_graph

        with self._api() as (api, _notes):
            version = api.artifact(spec)
            repo = discover(self.repo)
            return _graph(lineage_graph(repo, version, depth, nodes), depth, repo, nodes)

    def run_lineage(self, spec: str, depth: int = LINEAGE_DEPTH,
                    nodes: int = LINEAGE_NODES) -> dict[str, Any]:
        """``/api/runs/{id}/lineage``: the lineage graph around a run, as ``lineage``."""
        from gittrack.runs.artifact_runs import lineage_graph

        with self._api() as (api, _notes):
            view = api.run(spec)
            return _graph(lineage_graph(view.repo, view, depth, nodes), depth, view.repo, nodes)

    def histograms(self, spec: str, steps: int = HISTOGRAM_STEPS) -> dict[str, Any]:
        """``/api/runs/{id}/histograms``: each histogram key's bins over steps, at most
        ``steps`` steps per key (clamped to 1 .. ``HISTOGRAM_STEPS``; evenly spaced, the last
        step always in): ``{key: {"steps", "edges", "counts", "total"}}``."""
        steps = max(1, min(HISTOGRAM_STEPS, steps))
        with self._api() as (api, _notes):
            view = api.run(spec)
            rows = view.histograms(format="arrow").to_pylist()
        by_key: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_key.setdefault(row["key"], []).append(row)
        answer: dict[str, Any] = {}
        for key, entries in by_key.items():
            entries.sort(key=lambda r: r["_step"])
            chosen = [entries[i] for i in _evenly(len(entries), steps)]
            answer[key] = {"steps": [r["_step"] for r in chosen],
                           "edges": [jsonable(r["edges"]) for r in chosen],
                           "counts": [jsonable(r["counts"]) for r in chosen],
                           "total": len(entries)}
        return {"run": view.id, "histograms": answer}

    def panels(self, spec: str, key: str | None = None,
               step: int | None = None) -> dict[str, Any]:
        """``/api/runs/{id}/panels``: for each key (only ``key``, if given) the chart
        (``gittrack.plot``: a Vega-Lite specification with its table inlined as
        ``data.values``) or table logged at ``step`` (default: the last; else the last one at
        or before it), at most ``TABLE_ROWS`` rows (``rows_total`` says how many), and
        ``steps``: every step the key was logged at, for a slider."""
        charts: list[dict[str, Any]] = []
        tables: list[dict[str, Any]] = []
        with self._api() as (api, _notes):
            view = api.run(spec)
            rows = view.media_rows()
            kinds = {row.key: row.type for row in rows}
            if key is not None and kinds.get(key) not in ("chart", "table"):
                raise NotFoundError(f"run {view.id} has no chart or table {key!r}")
            steps_of: dict[str, list[int]] = {}
            for row in rows:
                if row.item == 0 or row.key not in steps_of:
                    steps_of.setdefault(row.key, []).append(row.step)
            for name, kind in kinds.items():
                if kind not in ("chart", "table") or key not in (None, name):
                    continue
                steps = sorted(set(steps_of[name]))
                wanted = steps[-1] if step is None else step
                at = max((s for s in steps if s <= wanted), default=steps[0])
                value = next(v for s, v in view.media(name) if s == at)
                entry = _panel(name, at, steps, value)
                if entry is not None:
                    (charts if entry["kind"] == "chart" else tables).append(entry)
        return {"run": view.id, "charts": charts, "tables": tables}

    def panel_steps(self, spec: str, limit: int = HISTOGRAM_STEPS) -> list[dict[str, Any]]:
        """Every chart and table of the run as ``panels`` gives one (``kind`` says which), at
        up to ``limit`` of the steps each key was logged at (evenly chosen, the last always
        in; ``steps`` lists those): what a static export embeds for the step sliders. Each
        key's values are decoded once, in step order."""
        limit = max(1, limit)
        entries: list[dict[str, Any]] = []
        with self._api() as (api, _notes):
            view = api.run(spec)
            rows = view.media_rows()
            kinds = {row.key: row.type for row in rows}
            for name, kind in kinds.items():
                if kind not in ("chart", "table"):
                    continue
                steps = sorted({row.step for row in rows if row.key == name})
                kept = [steps[i] for i in _evenly(len(steps), limit)]
                wanted = set(kept)
                for at, value in view.media(name):
                    if at in wanted:
                        wanted.discard(at)  # the first value logged at a step, as panels
                        entry = _panel(name, at, kept, value)
                        if entry is not None:
                            entries.append(entry)
        return entries

    def private(self) -> bool:
        """Whether the project is private (its media, console output and saved code are
        encrypted in the store); a repository whose privacy cannot be told counts as private."""
        from gittrack.git.repo import discover
        from gittrack.storage.config import load_config
        from gittrack.storage.project import is_private

        with self._lock:
            repo = discover(self.repo)
            try:
                return is_private(repo, load_config(repo))
            except GittrackError:
                return True

    def media_copies(self, spec: str) -> Iterator[tuple[str, Path | GittrackError]]:
        """For each media file of the run the page shows (``media``'s ``shown``), in the
        order of the index: its ``path`` and its verified plaintext in the local cache (fetched
        and decrypted as ``media_file`` does), or the gittrack error that kept it out (a key
        missing, a blob not found). The storage is opened once."""
        from gittrack.storage.project import open_storage

        with self._api() as (api, _notes):
            view = api.run(spec)
            rows = [r for r in view.media_rows() if r.format.lower() in MEDIA_TYPES]
            vault = open_storage(view.repo) if rows else None
            for row in rows:
                assert vault is not None
                try:
                    found: Path | GittrackError = vault.cached(
                        row.entry, what=f"media {row.key!r} of run {view.id}")
                except GittrackError as exc:
                    found = exc
                yield row.path, found

    def media(self, spec: str) -> dict[str, Any]:
        """``/api/runs/{id}/media``: the rows of the run's media index, in the order logged
        (nothing is downloaded): key, step, type, item, caption, size, format, ``path`` (for
        ``media_file``) and ``shown`` (whether the page can show the format)."""
        with self._api() as (api, _notes):
            view = api.run(spec)
            rows = view.media_rows()
        return {"run": view.id, "media": [{
            "key": row.key, "step": row.step, "type": row.type, "item": row.item,
            "caption": row.caption, "width": row.width, "height": row.height,
            "format": row.format, "size": row.entry.size, "path": row.path,
            "shown": row.format.lower() in MEDIA_TYPES,
        } for row in rows]}

    def media_file(self, spec: str, path: str) -> tuple[bytes, str]:
        """The bytes and content type of the media file ``path`` of the run's index, fetched
        from the project's store and decrypted when this machine lacks it (verified, then
        cached, as ``RunView.media`` does). ``NotFoundError`` for a path not in the index;
        ``UsageError`` for a format the page does not show."""
        from gittrack.storage.project import open_storage

        with self._api() as (api, _notes):
            view = api.run(spec)
            row = next((r for r in view.media_rows() if r.path == path), None)
            if row is None:
                raise NotFoundError(f"run {view.id} has no media file {path!r}")
            kind = MEDIA_TYPES.get(row.format.lower())
            if kind is None:
                raise UsageError(f"media file {path!r} is {row.format or 'of no format'}: "
                                 "not shown by the web UI")
            data = open_storage(view.repo).cached(
                row.entry, what=f"media {row.key!r} of run {view.id}").read_bytes()
        return data, kind

    def history(self, spec: str, keys: Sequence[str], *, points: int = DEFAULT_POINTS,
                x: str = "_step", start: float | None = None, end: float | None = None,
                stream: str = "default") -> dict[str, Any]:
        """``/api/runs/{id}/history``: each key's points against ``x`` within ``[start, end]``,
        downsampled to at most ``points`` per key (``downsample.m4``; ``points`` clamped to
        ``downsample.MAX_POINTS``). A key the run lacks is listed in ``missing``; a key whose
        values are not numbers in ``unplottable``. ``stream="system"``: the system metrics."""
        if stream not in STREAMS:
            raise UsageError(f"stream must be one of {', '.join(STREAMS)}, got {stream!r}")
        if not keys:
            raise UsageError("history needs keys: ?keys=loss&keys=acc (or keys=loss,acc)")
        if len(keys) > MAX_KEYS:
            raise UsageError(f"at most {MAX_KEYS} keys per request, got {len(keys)}")
        points = downsample.clamp_points(points)
        series: dict[str, Any] = {}
        missing: list[str] = []
        unplottable: list[str] = []
        with self._api() as (api, _notes):
            view = api.run(spec)
            types = {f.name: f.type for f in self._columns(view, stream)[0]}
            if x not in types:
                raise UsageError(f"x axis {x!r} is not a key of run {view.id}")
            if not _numeric(types[x]):
                raise UsageError(f"x axis {x!r} of run {view.id} is not numeric")
            drawn = []
            for key in dict.fromkeys(keys):
                if key not in types:
                    missing.append(key)
                elif not _numeric(types[key]):
                    unplottable.append(key)
                else:
                    drawn.append(key)
            found, hidden = self._read_window(view, stream, x, drawn, points, start, end)
        for key in drawn:
            kx, ky = found[key]
            part = downsample.window(kx, start, end)
            kx, ky = kx[part], ky[part]
            picked = downsample.m4(kx, ky, points)
            count = int(kx.size) + hidden.get(key, 0)
            series[key] = {
                "x": kx[picked].tolist(), "y": ky[picked].tolist(), "count": count,
                "sampled": bool(picked.size < count),
                "min": float(ky.min()) if ky.size else None,
                "max": float(ky.max()) if ky.size else None,
                "last": float(ky[-1]) if ky.size else None,
            }
        return {"run": view.id, "commit": view.commit, "stream": stream, "x": x,
                "points": points,
                "start": start, "end": end, "series": series, "missing": missing,
                "unplottable": unplottable}

    def _columns(self, view: RunView,
                 stream: str = "default") -> tuple[list[pa.Field], int]:
        """The run's history columns (or system metrics') and rows at its head commit, from
        the chunks' footers (nothing decoded; ``store.history_fields``), cached by commit."""
        key = (view.commit, stream)
        found = self._fields.get(key)
        if found is None:
            found = view.history_fields(stream, self._chunks(view, stream))
            self._fields[key] = found
            while len(self._fields) > FIELDS_CACHED:
                self._fields.popitem(last=False)
        else:
            self._fields.move_to_end(key)
        return found

    def _chunks(self, view: RunView, stream: str) -> Any:
        """The run's chunk files, kept for the next read of the same commit and stream."""
        key = (view.commit, stream)
        found = self._raw.get(key)
        if found is None:
            found = self._raw[key] = view.chunk_files(stream)
            while len(self._raw) > len(STREAMS):
                self._raw.popitem(last=False)
        return found

    def _read_window(
        self, view: RunView, stream: str, x: str, keys: Sequence[str], points: int,
        start: float | None, end: float | None,
    ) -> tuple[dict[str, tuple[Any, Any]], dict[str, int]]:
        """Each key's finite points against ``x``, sorted by ``x``, enough to draw
        ``[start, end]`` at ``points`` points, and per key how many points of the window they
        leave out (the answer's ``count`` is the true number).

        For ``x`` ``_step``, ``_runtime`` or ``_timestamp``, chunks that have an overview
        (``runs.overview``) are placed by its x range: a chunk outside the window is not read,
        one within it is read as its overview when the chunks within hold at least a bucket
        of rows per point asked (``bucket * points`` rows: then M4 over overviews keeps what
        M4 over the rows keeps), and whole otherwise (a zoom: full resolution); a chunk across
        an edge of the window, or without an overview, is read whole. Any other x axis (a
        metric, not in row order) reads every chunk whole (``_read_series``)."""
        import numpy as np

        chunks = self._chunks(view, stream)
        plan = self._plan(view, stream, chunks, x, points, start, end) if x in X_AXES else None
        if plan is None:
            return self._read_series(view, stream, x, keys), {}
        parts: dict[str, list[tuple[Any, Any]]] = {key: [] for key in keys}
        hidden = dict.fromkeys(keys, 0)
        for at, how in enumerate(plan):
            if how == SKIP:
                continue
            got = self._piece(view, stream, chunks, at, how, x, keys)
            summary = chunks.overview(at) if how == OVERVIEW else None
            for key in keys:
                parts[key].append(got[key])
                if summary is not None:  # the chunk's points of key that it leaves out
                    hidden[key] += summary.counts.get(key, 0) - int(got[key][0].size)
        found = {}
        for key in keys:
            xs = [p[0] for p in parts[key]]
            ys = [p[1] for p in parts[key]]
            joined_x = np.concatenate(xs) if xs else np.empty(0, dtype=np.int64)
            joined_y = np.concatenate(ys) if ys else np.empty(0, dtype=np.float64)
            found[key] = downsample.finite_sorted(joined_x, joined_y)
        return found, hidden

    def _plan(self, view: RunView, stream: str, chunks: Any, x: str, points: int,
              start: float | None, end: float | None) -> list[str] | None:
        """How to read each chunk for ``_read_window`` (``SKIP``, ``OVERVIEW``, ``FULL``), or
        None when no chunk has an overview (the whole series is read and kept)."""
        summaries = [chunks.overview(at) for at in range(len(chunks))]
        if not any(summaries):
            return None
        plan, inside, bucket = [], 0, 0
        for at, summary in enumerate(summaries):
            # an overview places its chunk only if x has a value in every row of it
            span = self._range(view, stream, chunks, at, x) \
                if summary is not None and summary.counts.get(x) == summary.rows else None
            if span is None:
                plan.append(FULL)
            elif (start is not None and span[1] < start) or (end is not None and span[0] > end):
                plan.append(SKIP)
            elif (start is None or span[0] >= start) and (end is None or span[1] <= end):
                assert summary is not None
                plan.append(OVERVIEW)
                inside += summary.rows
                bucket = max(bucket, summary.bucket)
            else:
                plan.append(FULL)
        if inside < bucket * points:  # too few rows per point: the rows themselves
            plan = [FULL if how == OVERVIEW else how for how in plan]
        return plan

    def _range(self, view: RunView, stream: str, chunks: Any, at: int,
               x: str) -> tuple[float, float] | None:
        """The lowest and highest ``x`` of chunk ``at``, from its overview (which keeps the
        rows of each bucket's extremes, so the chunk's), or None if it has none."""
        cache = (view.commit, stream, chunks.paths[at], x)
        if cache not in self._ranges:
            summary = chunks.overview(at)
            values = floats(summary.read([x], what=chunks.what(at)).column(x)) \
                if summary is not None else None
            span = None
            if values is not None and values.size:
                import numpy as np

                finite = values[np.isfinite(values)]
                if finite.size:
                    span = (float(finite.min()), float(finite.max()))
            self._ranges[cache] = span
            while len(self._ranges) > 4_096:
                self._ranges.popitem(last=False)
        return self._ranges[cache]

    def _piece(self, view: RunView, stream: str, chunks: Any, at: int, how: str, x: str,
               keys: Sequence[str]) -> dict[str, tuple[Any, Any]]:
        """Each key's finite points against ``x`` in chunk ``at`` (``how``: ``FULL``) or its
        overview (``OVERVIEW``), in row order: from the cache, else with only ``x`` and the
        keys not cached decoded."""
        import numpy as np

        found: dict[str, tuple[Any, Any]] = {}
        todo = []
        for key in keys:
            cached = self._pieces.get((view.commit, stream, chunks.paths[at], how, x, key))
            if cached is None:
                todo.append(key)
            else:
                self._pieces.move_to_end((view.commit, stream, chunks.paths[at], how, x, key))
                found[key] = cached
        if not todo:
            return found
        columns = [x, *todo]
        if how == OVERVIEW:
            summary = chunks.overview(at)
            assert summary is not None
            read = summary.read(columns, what=chunks.what(at))
        else:
            read = chunks.read(at, columns)
        xs = floats(read.column(x), steps=True) if x in read.column_names else None
        for key in todo:
            ys = floats(read.column(key)) if key in read.column_names else None
            if xs is None or ys is None:  # not in this chunk (or not numbers here)
                kx, ky = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
            else:
                keep = np.isfinite(ys)
                if xs.dtype.kind == "f":
                    keep &= np.isfinite(xs)
                kx, ky = (xs, ys) if keep.all() else (xs[keep], ys[keep])
            found[key] = (kx, ky)
            self._pieces[(view.commit, stream, chunks.paths[at], how, x, key)] = (kx, ky)
            self._piece_points += int(kx.size)
        while self._piece_points > PIECES_CACHED and len(self._pieces) > len(keys):
            _, (old, _) = self._pieces.popitem(last=False)
            self._piece_points -= int(old.size)
        return found

    def _read_series(self, view: RunView, stream: str, x: str,
                     keys: Sequence[str]) -> dict[str, tuple[Any, Any]]:
        """Each key's finite points against ``x``, sorted by ``x``: from the cache (by commit,
        stream, x and key: a commit never changes), else read with only the columns asked
        for decoded (``x`` and the keys not cached; Parquet column projection)."""
        found: dict[str, tuple[Any, Any]] = {}
        todo = []
        for key in keys:
            cached = self._series.get((view.commit, stream, x, key))
            if cached is None:
                todo.append(key)
            else:
                self._series.move_to_end((view.commit, stream, x, key))
                found[key] = cached
        if todo:
            table = view.history_columns([x, *todo], stream, self._chunks(view, stream))
            xs = floats(table.column(x), steps=True)
            for key in todo:
                ys = floats(table.column(key))
                assert xs is not None and ys is not None  # numeric by their types
                found[key] = self._series[(view.commit, stream, x, key)] = \
                    downsample.finite_sorted(xs, ys)
            while len(self._series) > max(self.cached_series, len(keys)):
                self._series.popitem(last=False)
        return found


def _row(view: RunView, stale: bool) -> dict[str, Any]:
    info = view.info
    code = dict(info.code or {})
    return {
        "id": view.id, "name": view.name, "state": str(view.state), "stale": stale,
        "created": info.created_at, "updated": info.updated_at, "duration": info.duration,
        "project": info.project, "group": info.group, "job_type": info.job_type,
        "tags": list(info.tags), "notes": info.notes,
        "branch": code.get("branch"), "commit": code.get("commit"), "dirty": code.get("dirty"),
        "checkpoint": view.commit,
        "config": jsonable(view.config), "summary": jsonable(view.summary),
    }


def _panel(name: str, at: int, steps: list[int], value: Any) -> dict[str, Any] | None:
    """A chart or table logged under ``name`` at step ``at`` as the page draws it (``None``
    for another value)."""
    from gittrack.formats.media.chart import Chart
    from gittrack.formats.media.table import Table

    common = {"key": name, "step": at, "steps": steps, "logged": len(steps)}
    if isinstance(value, Chart):
        return {**common, "kind": "chart", "title": value.title,
                "rows_total": len(value.table.data),
                "spec": {**jsonable(value.spec), "data": {"values": _records(value.table)}}}
    if isinstance(value, Table):
        return {**common, "kind": "table", "columns": [str(c) for c in value.columns],
                "rows": [jsonable(r) for r in value.data[:TABLE_ROWS]],
                "rows_total": len(value.data)}
    return None


def _evenly(count: int, limit: int) -> list[int]:
    """At most ``limit`` indices of ``range(count)``, evenly spaced, the last always in."""
    if count <= limit:
        return list(range(count))
    last = count - 1
    return sorted({round(i * last / (limit - 1)) for i in range(limit)} if limit > 1
                  else {last})


def _records(table: Any) -> list[dict[str, Any]]:
    """A ``gittrack.Table``'s first ``TABLE_ROWS`` rows as records (Vega's ``data.values``)."""
    names = [str(c) for c in table.columns]
    return [dict(zip(names, jsonable(list(row)), strict=False))
            for row in table.data[:TABLE_ROWS]]


def _version_row(version: ArtifactVersion) -> dict[str, Any]:
    return {"name": version.name, "version": version.version, "spec": version.spec,
            "type": version.type, "aliases": version.aliases, "created": version.created_at,
            "size": version.size, "file_count": version.file_count(),
            "producer": version.producer, "commit": version.commit}


def _run_link(view: RunView) -> dict[str, Any]:
    """A run as a lineage node: id, name, state (``None`` name for one that cannot be read)."""
    try:
        return {"id": view.id, "name": view.name, "state": str(view.state)}
    except GittrackError:
        return {"id": view.id, "name": None, "state": None}


def _graph(graph: LineageGraph, depth: int, repo: Repository, limit: int) -> dict[str, Any]:
    """A lineage graph as JSON: ``nodes`` (``kind`` ``run`` or ``version``), ``edges``
    (``source`` → ``target`` as the data went, ``role`` ``used`` or ``logged``). A version a
    run of the graph recorded that is gone (``lineage.notes``: ``removed`` by ``artifact rm``,
    or ``not here``) is a node too, ``id`` ``gone:<label>``, with ``gone`` saying which, while
    the graph has fewer than ``limit`` nodes (else ``truncated``)."""
    from gittrack.runs.artifact_runs import MAX_DEPTH, MAX_NODES
    from gittrack.runs.lineage import ROLES, notes, records

    nodes: list[dict[str, Any]] = []
    edges = [{"source": s, "target": t, "role": r} for s, t, r in graph.edges]
    for key, view in graph.runs.items():
        nodes.append({**_run_link(view), "id": key, "kind": "run", "run": view.id})
    for key, version in graph.versions.items():
        nodes.append({"id": key, "kind": "version", "name": version.name,
                      "version": version.version, "spec": version.spec, "type": version.type,
                      "aliases": version.aliases})
    truncated = graph.truncated
    limit = max(1, min(MAX_NODES, limit))
    gone: set[str] = set()
    for key, view in graph.runs.items():
        try:
            why = {spec: note for spec, note in notes(repo, view).items()
                   if note in ("removed", "not here")}
            recorded = [(role, spec) for role in ROLES if why
                        for spec, _commit in records(view.metadata, role) if spec in why]
        except GittrackError:  # a run that cannot be read: its node says so already
            continue
        for role, spec in recorded:
            node = f"gone:{spec}"
            if node not in gone:
                if len(nodes) >= limit:
                    truncated = True
                    continue
                gone.add(node)
                name, _, number = spec.rpartition(":")
                nodes.append({"id": node, "kind": "version", "name": name,
                              "version": int(number[1:]) if number[1:].isdigit() else None,
                              "spec": spec, "type": None, "aliases": [], "gone": why[spec]})
            edges.append({"source": node, "target": key, "role": role} if role == "used"
                         else {"source": key, "target": node, "role": role})
    return {"root": graph.root, "depth": max(0, min(MAX_DEPTH, depth)), "nodes": nodes,
            "edges": edges, "truncated": truncated}


def _text(data: bytes) -> str | None:
    """``data`` as UTF-8 text, or None for bytes that are not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _numeric_keys(fields: Sequence[pa.Field]) -> list[str]:
    """The history keys a chart can draw (numbers or booleans), in stored order."""
    return [f.name for f in fields
            if f.name not in X_AXES and not f.name.startswith("_") and _numeric(f.type)]


def _numeric(kind: pa.DataType) -> bool:
    """Whether a column of this type is drawn (``arrow.floats`` makes floats of it)."""
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind) or pa.types.is_decimal(kind))
