"""The web UI beside its peers (section ``ui``, issue 14): TensorBoard and MLflow's UI.

The same metric for every tool: ``loss = 1 / (step + 1)`` at steps ``0 .. N-1``, the values
``bench/ui.py`` logs with ``gittrack.log``, for N = 1,000,000 and 10,000,000 (``--quick``:
30,000 and 300,000). For each tool and size, a fresh server process on 127.0.0.1 and:

- *served*: from the server's process start until its JSON API answers the whole series (for
  TensorBoard, which loads event files in the background and answers what it has so far, until
  the answer holds the last step; for gittrack, its history endpoint's first answer);
- *chart*: then, opening the page of that metric in chromium until its chart is drawn;
- the server's resident memory (the process and its children: TensorBoard's data server, MLflow's
  workers) after both.

TensorBoard's event file is written by ``write_events``: the records its own
``EventFileWriter`` writes for the same events (the same bytes: ``check_events`` compares 2,000
of them with the writer's before each measurement), built with numpy because that writer's
pure-Python CRC-32C costs about 30 µs an event (5 minutes for 10,000,000); its values are
float32, TensorBoard's only scalar type.
MLflow's metric is logged with ``MlflowClient.log_batch`` (1,000 points a call, its limit) into
a SQLite store, its default local store, at the smaller size only (10,000,000 points would take
about 9 minutes there), or 100,000 points when the smaller size would take over 3 minutes.
Then gittrack's runs table beside MLflow's, 10,000 runs each (``--quick``: MLflow 300): from
opening the page until its first rows show, first and again; TensorBoard has no runs table.
The how and the fairness: docs/decisions.md, "Issue 14: the web UI beside TensorBoard...".
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TAG = "loss"
_CRC_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected, as TFRecord frames use


def _crc_table() -> Any:
    import numpy as np

    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _CRC_POLY if c & 1 else c >> 1
        table[i] = c
    return table


def _masked_crc_rows(rows: Any, table: Any) -> Any:
    """The masked CRC-32C (TFRecord's) of each row of a uint8 matrix, as uint32."""
    import numpy as np

    crc = np.full(rows.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    eight = np.uint32(8)
    for j in range(rows.shape[1]):
        crc = table[(crc ^ rows[:, j]) & 0xFF] ^ (crc >> eight)
    crc = (crc ^ np.uint32(0xFFFFFFFF)).astype(np.uint64)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8).astype(np.uint32)


def _frame(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    import numpy as np

    table = _crc_table()
    header = struct.pack("<Q", len(data))
    crcs = [_masked_crc_rows(np.frombuffer(b, dtype=np.uint8)[None, :], table)[0]
            for b in (header, data)]
    return header + struct.pack("<I", crcs[0]) + data + struct.pack("<I", crcs[1])


def _event_rows(steps: Any, values: Any, walls: Any, width: int, tag: bytes) -> Any:
    """The serialized ``Event`` protos of scalars whose step varints are ``width`` bytes long.

    ``Event{wall_time: 1 double, step: 2 varint (absent when 0, proto3), summary: 5
    {value: 1 {tag: 1 string, simple_value: 2 float}}}``, in field order, as protobuf writes it.
    """
    import numpy as np

    inner = b"\x0a" + bytes([len(tag)]) + tag + b"\x15"
    value_len = len(inner) + 4
    summary = b"\x2a" + bytes([value_len + 2]) + b"\x0a" + bytes([value_len]) + inner
    n = steps.size
    size = 9 + (1 + width if width else 0) + len(summary) + 4
    rows = np.empty((n, size), dtype=np.uint8)
    rows[:, 0] = 0x09
    rows[:, 1:9] = walls.astype("<f8").view(np.uint8).reshape(n, 8)
    at = 9
    if width:
        rows[:, at] = 0x10
        for k in range(width):
            byte = (steps >> (7 * k)) & 0x7F
            rows[:, at + 1 + k] = byte | 0x80 if k < width - 1 else byte
        at += 1 + width
    rows[:, at:at + len(summary)] = np.frombuffer(summary, dtype=np.uint8)
    rows[:, at + len(summary):] = values.astype("<f4").view(np.uint8).reshape(n, 4)
    return rows


def write_events(folder: Path, n: int, *, wall0: float = 1.8e9, block: int = 1 << 20) -> Path:
    """TensorBoard's event file of the scalar ``loss = 1/(step+1)``, steps ``0 .. n-1``.

    The bytes ``EventFileWriter.add_event`` writes for the same events (a file-version event,
    then one record per scalar); wall times ``wall0 + step * 1e-5``. Returns the file.
    """
    import numpy as np
    from tensorboard.compat.proto.event_pb2 import Event

    table = _crc_table()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"events.out.tfevents.{int(wall0)}.{socket.gethostname()}.{os.getpid()}.0"
    with open(path, "wb") as f:
        f.write(_frame(Event(wall_time=wall0, file_version="brain.Event:2").SerializeToString()))
        bounds = [0, 1, 128, 1 << 14, 1 << 21, 1 << 28, 1 << 35]
        for width in range(len(bounds) - 1):
            lo, hi = bounds[width], min(bounds[width + 1], n)
            for start in range(lo, hi, block):
                steps = np.arange(start, min(hi, start + block), dtype=np.int64)
                rows = _event_rows(steps, (1.0 / (steps + 1)).astype(np.float32),
                                   wall0 + steps * 1e-5, width, TAG.encode())
                m, size = rows.shape
                out = np.empty((m, 16 + size), dtype=np.uint8)
                header = np.frombuffer(struct.pack("<Q", size), dtype=np.uint8)
                out[:, :8] = header
                out[:, 8:12] = np.frombuffer(
                    struct.pack("<I", _masked_crc_rows(header[None, :], table)[0]),
                    dtype=np.uint8)
                out[:, 12:12 + size] = rows
                out[:, 12 + size:] = _masked_crc_rows(rows, table).astype("<u4").view(
                    np.uint8).reshape(m, 4)
                f.write(out.tobytes())
    return path


def check_events(folder: Path, n: int = 2_000) -> None:
    """Raise unless ``write_events`` writes the bytes of TensorBoard's ``EventFileWriter``.

    All but the first record (the file-version event, stamped with the writer's clock).
    """
    import numpy as np
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    ours = write_events(folder / "fast", n).read_bytes()
    writer = EventFileWriter(str(folder / "writer"))
    for i in range(n):
        value = float(np.float32(1.0 / (i + 1)))
        writer.add_event(Event(wall_time=1.8e9 + i * 1e-5, step=i, summary=Summary(
            value=[Summary.Value(tag=TAG, simple_value=value)])))
    writer.close()
    theirs = next((folder / "writer").iterdir()).read_bytes()

    def skip_first(b: bytes) -> bytes:
        return b[16 + struct.unpack("<Q", b[:8])[0]:]

    if skip_first(ours) != skip_first(theirs):
        raise RuntimeError("write_events differs from TensorBoard's EventFileWriter")


# -- servers -----------------------------------------------------------------------------------

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, timeout: float = 600.0) -> Any:
    """The JSON answer of ``url``, or None while the server does not answer (yet)."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, ConnectionError, OSError, ValueError):
        return None


def _poll(fetch: Any, done: Any, t0: float, limit: float) -> tuple[float, Any]:
    """Call ``fetch()`` every 20 ms until ``done(answer)``; seconds since ``t0`` and the answer."""
    while True:
        answer = fetch()
        if answer is not None and done(answer):
            return time.perf_counter() - t0, answer
        if time.perf_counter() - t0 > limit:
            raise RuntimeError(f"no complete answer within {limit:.0f} s (last: {answer!r:.200})")
        time.sleep(0.02)


def _tree_rss_mb(pid: int) -> tuple[float, str]:
    """Resident memory of a process and its descendants (MB), and how many processes (with
    the largest one's memory when there are several)."""
    import psutil

    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    sizes = [0]
    for p in procs:
        with contextlib.suppress(psutil.Error):
            sizes.append(p.memory_info().rss)
    count = f"{len(procs)}, largest {max(sizes) / 1e6:.0f} MB" if len(procs) > 1 else "1"
    return sum(sizes) / 1e6, count


def _dark_pixels(page: Any, selector: str) -> int:
    """Pixels darker than the grid in a screenshot of the element ``selector`` (its line)."""
    import io

    from PIL import Image

    png = page.locator(selector).first.screenshot()
    gray = Image.open(io.BytesIO(png)).convert("L")
    return sum(gray.histogram()[:150])


class _Server:
    """A server process started now, stopped (by its own id) on exit; ``t0`` its start."""

    def __init__(self, argv: list[str], *, cwd: Path | None = None,
                 env: dict[str, str] | None = None, stdout: Any = None) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, text=True,
                                     stdout=stdout or subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        import psutil

        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            kids = []
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a server that ignores SIGTERM
            self.proc.kill()
            self.proc.wait()
        for kid in kids:  # workers that outlive their parent
            with contextlib.suppress(psutil.Error):
                kid.kill()


CHART_TIMEOUT_MS = 180_000


def _chart(page: Any, url: str, wait: Any, drawn: str) -> tuple[float | None, int]:
    """Seconds from opening ``url`` until ``wait(page)`` returns (None: not within
    ``CHART_TIMEOUT_MS``), and the dark pixels of the element ``drawn`` then."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    t0 = time.perf_counter()
    page.goto(url)
    try:
        wait(page)
    except PlaywrightTimeout:
        return None, 0
    seconds = time.perf_counter() - t0
    return seconds, _dark_pixels(page, drawn)


@contextlib.contextmanager
def _gittrack_server(repo: Path) -> Iterator[tuple[_Server, str]]:
    """``gittrack ui`` in ``repo`` on a free loopback port; (server, base URL it printed)."""
    import re
    import sys

    argv = [sys.executable, "-m", "gittrack", "ui", "--port", "0", "--no-browser"]
    with _Server(argv, cwd=repo, stdout=subprocess.PIPE) as server:
        assert server.proc.stdout is not None
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", server.proc.stdout.readline())
        if not found:
            raise RuntimeError("gittrack ui printed no URL")
        yield server, found.group(1)


def measure_gittrack(repo: Path, run_id: str, n: int, page: Any) -> dict[str, Any]:
    from urllib.parse import quote

    with _gittrack_server(repo) as (server, base):
        run_url = f"{base}api/runs/{quote(run_id, safe='')}"

        def fetch() -> Any:
            if _get_json(run_url) is None:  # what the page asks first
                return None
            return _get_json(f"{run_url}/history?key={TAG}&x=_step&points=1000")

        served, body = _poll(fetch, lambda b: b["series"][TAG]["count"] == n, server.t0, 900)
        out: dict[str, Any] = {"served": served, "points": len(body["series"][TAG]["x"])}
        if page is not None:
            selector = f".chart[data-key='{TAG}'] canvas"
            out["chart"], out["pixels"] = _chart(
                page, f"{base}#/run/{run_id}",
                lambda p: p.wait_for_selector(selector, timeout=CHART_TIMEOUT_MS), selector)
        out["rss_mb"], out["procs"] = _tree_rss_mb(server.proc.pid)
    return out


def measure_tensorboard(logdir: Path, n: int, page: Any) -> dict[str, Any]:
    import shutil

    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    exe = shutil.which("tensorboard")
    if exe is None:
        raise RuntimeError("no `tensorboard` command")
    with _Server([exe, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)]) \
            as server:
        served, body = _poll(
            lambda: _get_json(f"{base}data/plugin/scalars/scalars?run=run&tag={TAG}"),
            lambda b: bool(b) and b[-1][1] == n - 1, server.t0, 900)
        out: dict[str, Any] = {"served": served, "points": len(body)}
        if page is not None:
            last = f"{n - 1:,}"
            card = "scalar-card line-chart"

            def wait(p: Any) -> None:
                p.wait_for_function(
                    "([sel, last]) => { const c = document.querySelector(sel);"
                    " return c && c.querySelector('canvas') &&"
                    " c.closest('scalar-card').textContent.includes(last); }",
                    arg=[card, last], timeout=CHART_TIMEOUT_MS, polling="raf")

            out["chart"], out["pixels"] = _chart(page, f"{base}#timeseries", wait,
                                                 f"{card} .series-view")
        out["rss_mb"], out["procs"] = _tree_rss_mb(server.proc.pid)
    return out


MLFLOW_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def log_mlflow(folder: Path, n: int) -> tuple[str, str, str, float]:
    """``loss = 1/(step+1)`` for steps ``0 .. n-1`` logged with ``MlflowClient.log_batch``
    (1,000 a call, its limit) into a SQLite store; (uri, experiment id, run id, seconds)."""
    os.environ.update(MLFLOW_ENV)
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(uri)
    exp = client.create_experiment("bench-ui")
    run_id = client.create_run(exp, run_name="long").info.run_id
    ts = int(time.time() * 1000)
    t0 = time.perf_counter()
    for start in range(0, n, 1000):
        client.log_batch(run_id, metrics=[Metric(TAG, 1.0 / (i + 1), ts, i)
                                          for i in range(start, min(n, start + 1000))])
    seconds = time.perf_counter() - t0
    client.set_terminated(run_id)
    return uri, exp, run_id, seconds


def mlflow_rate(folder: Path) -> float:
    """Seconds per point of ``log_mlflow`` on 10,000 points, to choose a size."""
    return log_mlflow(folder, 10_000)[3] / 10_000


def _mlflow_server(uri: str) -> tuple[_Server, str]:
    """``mlflow server`` over the store ``uri`` on a free loopback port; (server, base URL)."""
    import shutil

    port = _free_port()
    exe = shutil.which("mlflow")
    if exe is None:
        raise RuntimeError("no `mlflow` command")
    argv = [exe, "server", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port",
            str(port), "--workers", "1"]
    return _Server(argv, env={**os.environ, **MLFLOW_ENV}), f"http://127.0.0.1:{port}/"


def measure_mlflow(uri: str, exp: str, run_id: str, n: int, page: Any) -> dict[str, Any]:
    server, base = _mlflow_server(uri)
    with server:
        # what the run page's chart asks (MLflow 3)
        url = (f"{base}ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run_id}"
               f"&metric_key={TAG}&max_results=320")
        served, body = _poll(
            lambda: _get_json(url),
            lambda b: bool(b.get("metrics")) and b["metrics"][-1]["step"] == n - 1,
            server.t0, 900)
        out: dict[str, Any] = {"served": served, "points": len(body["metrics"])}
        if page is not None:
            line = ".js-plotly-plot .scatterlayer path.js-line"

            def wait(p: Any) -> None:
                p.wait_for_function(
                    "(sel) => { const l = document.querySelector(sel);"
                    " return l && ((l.getAttribute('d') || '').match(/L/g) || []).length >= 2; }",
                    arg=line, timeout=CHART_TIMEOUT_MS, polling="raf")

            out["chart"], out["pixels"] = _chart(
                page, f"{base}#/experiments/{exp}/runs/{run_id}/model-metrics", wait,
                ".js-plotly-plot")
        out["rss_mb"], out["procs"] = _tree_rss_mb(server.proc.pid)
    return out


def log_mlflow_runs(folder: Path, n: int, budget: float) -> tuple[str, str, int, float]:
    """``n`` finished MLflow runs (a param and a metric each, as ``bench.scale_data`` gives
    gittrack's runs a config and a summary) in a SQLite store, fewer when the first 200 show
    that ``n`` would take over ``budget`` seconds; (uri, experiment id, runs, seconds)."""
    os.environ.update(MLFLOW_ENV)
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(uri)
    exp = client.create_experiment("bench-runs")
    ts = int(time.time() * 1000)
    t0 = time.perf_counter()
    i = 0
    while i < n:
        run_id = client.create_run(exp, run_name=f"run-{i}").info.run_id
        client.log_batch(run_id, metrics=[Metric(TAG, 1.0 / (i + 1), ts, 0)],
                         params=[Param("lr", str(0.001 * (1 + i % 4)))])
        client.set_terminated(run_id)
        i += 1
        if i == 200 and (time.perf_counter() - t0) / 200 * n > budget:
            n = max(200, int(budget / ((time.perf_counter() - t0) / 200)) // 1000 * 1000)
    return uri, exp, n, time.perf_counter() - t0


def _table_times(page: Any, url: str, wait: Any) -> tuple[float | None, float | None]:
    """Seconds until ``wait(page)`` after opening ``url``, first and again (None: timed out)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    times: list[float | None] = []
    for _ in range(2):
        t0 = time.perf_counter()
        page.goto(url)
        try:
            wait(page)
            times.append(time.perf_counter() - t0)
        except PlaywrightTimeout:
            times.append(None)
        page.goto("about:blank")
    return times[0], times[1]


def gittrack_table(repo: Path, page: Any) -> dict[str, Any]:
    """``gittrack ui``'s runs table, as ``bench/ui.py`` times it, on a fresh server."""
    with _gittrack_server(repo) as (server, base):
        first, again = _table_times(page, base, lambda p: p.wait_for_selector(
            "body[data-ready='1'] #runs tbody tr", timeout=CHART_TIMEOUT_MS))
        page.goto(base)
        page.wait_for_selector("body[data-ready='1'] #runs tbody tr", timeout=CHART_TIMEOUT_MS)
        shown = page.evaluate("document.querySelectorAll('#runs tbody tr[data-id]').length")
        listed = page.evaluate("fetch('/api/runs').then(r => r.json()).then(b => b.runs.length)")
        rss, procs = _tree_rss_mb(server.proc.pid)
    return {"first": first, "again": again, "shown": int(shown), "runs": int(listed),
            "rss_mb": rss, "procs": procs}


def mlflow_table(uri: str, exp: str, n: int, page: Any) -> dict[str, Any]:
    """MLflow's runs table of experiment ``exp``: until the newest run's row shows."""
    server, base = _mlflow_server(uri)
    with server:
        _poll(lambda: _get_json(f"{base}ajax-api/3.0/mlflow/server-info"), lambda b: True,
              server.t0, 300)

        def wait(p: Any) -> None:
            p.wait_for_function(
                "(name) => Array.from(document.querySelectorAll('.ag-row'))"
                ".some(r => r.textContent.includes(name))",
                arg=f"run-{n - 1}", timeout=CHART_TIMEOUT_MS, polling="raf")

        first, again = _table_times(page, f"{base}#/experiments/{exp}/runs", wait)
        page.goto(f"{base}#/experiments/{exp}/runs")
        wait(page)
        shown = page.evaluate("document.querySelectorAll('.ag-center-cols-container .ag-row')"
                              ".length || document.querySelectorAll('.ag-row').length")
        rss, procs = _tree_rss_mb(server.proc.pid)
    return {"first": first, "again": again, "shown": int(shown), "runs": n, "rss_mb": rss,
            "procs": procs}


# -- the section's part ------------------------------------------------------------------------

def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _gittrack_run(repo: Path, n: int) -> str:
    import gittrack

    run = gittrack.init(repo=str(repo), settings={"quiet": True, "checkpoint_interval": 30})
    for i in range(n):
        run.log({TAG: 1.0 / (i + 1)})
    run.finish()
    return str(run.id)


def run(ctx: Any, repo: Path, run_id: str, steps: int, chromium: str) -> None:
    """Measure the peers beside gittrack's ``run_id`` (``steps`` steps of ``loss``) in ``repo``."""
    from bench.common import dist_version, fmt_ratio, fmt_s, table

    ctx.out("## Web UI beside TensorBoard and MLflow: the same metric, a fresh server each")
    small = 30_000 if ctx.quick else 1_000_000
    runs = {steps: run_id}
    peers: list[tuple[str, int]] = []
    if _installed("tensorboard"):
        check_events(ctx.scratch("ui", "tb-check"))
        peers += [("tensorboard", small), ("tensorboard", steps)]
    else:
        ctx.out("  TensorBoard skipped: not installed (pip install tensorboard)")
    ml_n = 0
    if _installed("mlflow"):
        ctx.progress("ui peers: MLflow logging rate")
        per_point = mlflow_rate(ctx.scratch("ui", "mlflow-rate"))
        ml_n = small if per_point * small <= 180 else 100_000
        peers.append(("mlflow", ml_n))
    else:
        ctx.out("  MLflow skipped: not installed (pip install mlflow)")
    if not peers:
        return
    for n in sorted({n for _, n in peers} - {steps}):
        ctx.progress(f"ui peers: a gittrack run of {n:,} steps")
        runs[n] = _gittrack_run(repo, n)
    browser_ok = os.path.exists(chromium) and _installed("playwright")
    if not browser_ok:
        ctx.out(f"  charts skipped: no {chromium} or no playwright (served and memory only)")
    results: list[tuple[str, int, dict[str, Any], str]] = []
    with _browser(chromium if browser_ok else None) as new_page:
        for n in sorted(runs):
            ctx.progress(f"ui peers: gittrack ui, {n:,} steps")
            results.append(("gittrack ui", n, measure_gittrack(repo, runs[n], n, new_page()),
                             ""))
        for tool, n in peers:
            if tool == "tensorboard":
                ctx.progress(f"ui peers: TensorBoard event file of {n:,} scalars")
                logdir = ctx.scratch("ui", f"tb-{n}")
                t0 = time.perf_counter()
                write_events(logdir / "run", n)
                note = f"event file written in {fmt_s(time.perf_counter() - t0)}"
                ctx.progress(f"ui peers: tensorboard, {n:,} steps")
                results.append((f"TensorBoard {dist_version('tensorboard')}", n,
                                measure_tensorboard(logdir, n, new_page()), note))
            else:
                ctx.progress(f"ui peers: MLflow log_batch of {n:,} points")
                uri, exp, mrun, seconds = log_mlflow(ctx.scratch("ui", f"mlflow-{n}"), n)
                note = f"logged in {fmt_s(seconds)}"
                ctx.progress(f"ui peers: mlflow server, {n:,} steps")
                results.append((f"MLflow {dist_version('mlflow')} (SQLite)", n,
                                measure_mlflow(uri, exp, mrun, n, new_page()), note))
    own = {n: r for tool, n, r, _ in results if tool == "gittrack ui"}
    rows = []
    for tool, n, r, _ in results:
        total = r["served"] + r["chart"] if r.get("chart") is not None else None
        mine = own[n]
        mine_total = mine["served"] + mine["chart"] if mine.get("chart") is not None else None
        ratio = "-" if tool == "gittrack ui" or total is None or mine_total is None else \
            fmt_ratio(total / mine_total)
        if "chart" not in r:
            chart = "-"
        elif r["chart"] is None:
            chart = f"not in {CHART_TIMEOUT_MS // 1000} s"
        else:
            chart = fmt_s(r["chart"]) + ("" if r["pixels"] > 100 else " (blank?)")
        rows.append([tool, f"{n:,}", fmt_s(r["served"]), chart,
                     fmt_s(total), ratio, f"{r['points']:,}",
                     f"{r['rss_mb']:,.0f} MB ({r['procs']})"])
    ctx.out(table(["server", "steps", "served", "chart", "start to chart", "× gittrack",
                   "points sent", "memory (processes)"], rows))
    for tool, n, _, note in results:
        if note:
            ctx.out(f"  {tool}, {n:,} steps: {note}")
    ctx.out("  served: from the server process's start until its JSON answers the whole series "
            "(TensorBoard: the last step is in; MLflow: get-history-bulk-interval, what its "
            "chart asks; gittrack: /api/runs/{id} then /history, what its page asks). chart: "
            "then opening the metric's page in chromium until the line is drawn. memory: "
            "resident, the server and its child processes, afterwards.")
    if ml_n and ml_n != small:
        ctx.out(f"  MLflow measured at {ml_n:,} points: logging {small:,} would take over 3 "
                "minutes at the rate measured.")
    if ml_n:
        ctx.out(f"  MLflow not at {steps:,} points: log_batch into SQLite runs at about "
                f"{1 / per_point:,.0f} points/s here ({fmt_s(per_point * steps)} for them).")
    ctx.data["ui_peers"] = [(tool, n, r) for tool, n, r, _ in results]
    if browser_ok and ml_n:
        _tables(ctx, repo, chromium)
    else:
        ctx.out("  runs tables skipped: needs chromium and MLflow")


def _tables(ctx: Any, repo: Path, chromium: str) -> None:
    """gittrack's runs table (the repository of ``bench/ui.py``) beside MLflow's."""
    from bench.common import dist_version, fmt_ratio, fmt_s, table

    n = 300 if ctx.quick else 10_000  # about 25 ms a run here
    ctx.progress(f"ui peers: {n:,} MLflow runs")
    uri, exp, n, seconds = log_mlflow_runs(ctx.scratch("ui", "mlflow-runs"), n, 300)
    with _browser(chromium) as new_page:
        ctx.progress("ui peers: gittrack's runs table")
        own = gittrack_table(repo, new_page())
        ctx.progress("ui peers: MLflow's runs table")
        theirs = mlflow_table(uri, exp, n, new_page())
    rows = []
    for tool, r in (("gittrack ui", own), (f"MLflow {dist_version('mlflow')} (SQLite)", theirs)):
        ratio = "-" if r is own or None in (r["first"], own["first"]) else \
            fmt_ratio(r["first"] / own["first"])
        rows.append([tool, f"{r['runs']:,}", f"{r['shown']:,}", fmt_s(r["first"]),
                     fmt_s(r["again"]), ratio, f"{r['rss_mb']:,.0f} MB ({r['procs']})"])
    ctx.out(table(["runs table", "runs", "rows shown", "first load", "again", "× gittrack",
                   "memory (processes)"], rows))
    ctx.out(f"  {n:,} MLflow runs (a param and a metric each, finished) logged in "
            f"{fmt_s(seconds)}. Until the table shows its first rows from opening the page, "
            "the server already answering (MLflow: the newest run's row; it asks runs/search "
            "for 100 runs and pages the rest; gittrack loads every run for client-side sort, "
            "filter and grouping and draws the first rows; its listing cache in .git was filled "
            "by the section's first load above, the cold figure). TensorBoard has no runs "
            "table (its run selector lists run folders): not compared.")
    ctx.data["ui_peers_tables"] = {"gittrack": own, "mlflow": theirs}


class _browser:
    """``new_page()`` of one chromium (a fresh context per page), or None without one."""

    def __init__(self, chromium: str | None) -> None:
        self.chromium = chromium

    def __enter__(self) -> Any:
        if self.chromium is None:
            return lambda: None
        from playwright.sync_api import sync_playwright

        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path=self.chromium,
                                               args=BROWSER_ARGS)
        return lambda: self.browser.new_context(
            viewport={"width": 1280, "height": 900}).new_page()

    def __exit__(self, *exc: object) -> None:
        if self.chromium is not None:
            self.browser.close()
            self.pw.stop()
