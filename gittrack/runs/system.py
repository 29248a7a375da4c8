"""System metrics of a live run: a thread samples CPU, memory, disk, network and NVIDIA GPUs.

Every ``Settings.system_interval`` seconds (15 by default, as W&B) the sampler thread measures
the machine and the process (``Probes``) and hands the sample to the run, which records it
through its write-ahead log (a ``"system"`` record: ``runs.state``), so a killed process keeps
the samples already taken. Checkpoints write the rows as chunks of ``system/``, shaped like
``history/`` (``_step``, ``_timestamp``, ``_runtime``, one column per key); ``_step`` is the
run's open step when the sample was taken. The keys are W&B's (docs/system.md):

==================================  ====================================================
``system.cpu``                      CPU utilisation of the whole machine, % (0-100)
``system.proc.cpu.percent``         CPU of this process, % of one core (0-100 × cores)
``system.proc.cpu.threads``         threads of this process
``system.memory``                   memory of the machine in use, %
``system.proc.memory.rssMB``        resident memory of this process, MB
``system.proc.memory.percent``      that, as % of the machine's memory
``system.proc.memory.availableMB``  memory available on the machine, MB
``system.disk``                     usage of the disk that holds the repository, %
``system.disk.usageGB``             used space on that disk, GB
``system.disk.in`` / ``.out``       MB read / written by the machine since the run started
``system.network.sent`` / ``.recv`` bytes sent / received by the machine since then
``system.gpu.N.gpu``                GPU N utilisation, %
``system.gpu.N.memory``             time GPU N's memory was read or written, %
``system.gpu.N.memoryAllocated``    GPU N memory in use, % of its total
``system.gpu.N.memoryAllocatedBytes`` / ``memoryTotalBytes``   used / total bytes
``system.gpu.N.temp``               temperature, °C
``system.gpu.N.powerWatts``         power drawn, W
``system.gpu.N.powerPercent``       that, as % of the enforced power limit
==================================  ====================================================

A probe that fails (a psutil or NVML error, a counter the platform lacks) leaves its key out
of that sample; the run never sees the error. NVML is the ``pynvml`` module of
``nvidia-ml-py`` (``pip install 'gittrack[gpu]'``), used only when it imports and initialises;
``NVML_LOADER`` is the one seam where tests put a fake NVML.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from gittrack.runs import layout
from gittrack.runs.state import Extra, Maker
from gittrack.settings import Settings, system_metrics_enabled

log = logging.getLogger("gittrack")

Sample = dict[str, float]
SystemRow = tuple[int, float, Sample]
"""``(step, timestamp, values)``: one sample as the run's state keeps it."""
Recorder = Callable[[float, Sample], None]

_MB = 1024 * 1024
_GB = 1024 * _MB
_STOP_TIMEOUT = 10.0  # finish() waits at most this long for a sampler stuck in a probe


def load_nvml() -> Any | None:
    """The ``pynvml`` module, initialised, or ``None`` (not installed, or no NVIDIA driver)."""
    try:
        import pynvml  # type: ignore[import-not-found,unused-ignore]

        pynvml.nvmlInit()
    except Exception:  # ImportError, NVMLError_LibraryNotFound, a driver mismatch...
        return None
    return pynvml


NVML_LOADER: Callable[[], Any | None] = load_nvml
"""Gives the NVML module the sampler reads GPUs with (initialised), or ``None``."""


class Probes:
    """The measurements of one sample. Counters (disk, network) count from the first sample
    of this sampler; CPU percentages cover the time since the previous sample."""

    def __init__(self, disk_path: str, nvml: Any | None) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process()
        self._disk_path = disk_path
        self._nvml = nvml
        self._gpus = _gpu_handles(nvml) if nvml is not None else []
        self._cores = psutil.cpu_count() or 1
        self._process.cpu_percent(None)  # the first call only starts the count
        psutil.cpu_percent(None)
        self._disk_base = _attempt(psutil.disk_io_counters)
        self._net_base = _attempt(psutil.net_io_counters)

    def sample(self) -> Sample:
        values: Sample = {}
        psutil, process = self._psutil, self._process
        put = _putter(values)
        # Over a short window (the last sample is taken at once on finish) CPU time counted in
        # clock ticks can exceed the wall time: keep the readings within what is possible.
        put("system.cpu", lambda: min(psutil.cpu_percent(None), 100.0))
        put("system.proc.cpu.percent",
            lambda: min(process.cpu_percent(None), 100.0 * self._cores))
        put("system.proc.cpu.threads", process.num_threads)
        memory = _attempt(psutil.virtual_memory)  # one reading per sample, for two keys
        put("system.memory", lambda: memory.percent)
        put("system.proc.memory.availableMB", lambda: memory.available / _MB)
        put("system.proc.memory.rssMB", lambda: process.memory_info().rss / _MB)
        put("system.proc.memory.percent", process.memory_percent)
        disk = _attempt(psutil.disk_usage, self._disk_path)
        put("system.disk", lambda: disk.percent)
        put("system.disk.usageGB", lambda: disk.used / _GB)
        self._counters(put)
        for index, handle in enumerate(self._gpus):
            _gpu(put, self._nvml, f"system.gpu.{index}.", handle)
        return values

    def _counters(self, put: Callable[[str, Callable[[], float]], None]) -> None:
        disk, net = self._disk_base, self._net_base
        if disk is not None:
            now = _attempt(self._psutil.disk_io_counters)
            put("system.disk.in", lambda: (now.read_bytes - disk.read_bytes) / _MB)
            put("system.disk.out", lambda: (now.write_bytes - disk.write_bytes) / _MB)
        if net is not None:
            traffic = _attempt(self._psutil.net_io_counters)
            put("system.network.sent", lambda: traffic.bytes_sent - net.bytes_sent)
            put("system.network.recv", lambda: traffic.bytes_recv - net.bytes_recv)

    def close(self) -> None:
        if self._nvml is not None:
            _attempt(self._nvml.nvmlShutdown)


def _gpu_handles(nvml: Any) -> list[Any]:
    try:
        return [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
    except Exception:
        return []


def _gpu(put: Callable[[str, Callable[[], float]], None], nvml: Any, prefix: str,
         handle: Any) -> None:
    rates = _attempt(nvml.nvmlDeviceGetUtilizationRates, handle)
    if rates is not None:
        put(prefix + "gpu", lambda: rates.gpu)
        put(prefix + "memory", lambda: rates.memory)
    memory = _attempt(nvml.nvmlDeviceGetMemoryInfo, handle)
    if memory is not None:
        put(prefix + "memoryAllocated", lambda: 100.0 * memory.used / memory.total)
        put(prefix + "memoryAllocatedBytes", lambda: memory.used)
        put(prefix + "memoryTotalBytes", lambda: memory.total)
    put(prefix + "temp", lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
    milliwatts = _attempt(nvml.nvmlDeviceGetPowerUsage, handle)
    if milliwatts is not None:
        put(prefix + "powerWatts", lambda: milliwatts / 1000.0)
        limit = _attempt(nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
        if limit:
            put(prefix + "powerPercent", lambda: 100.0 * milliwatts / limit)


def _attempt(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        log.debug("gittrack: system metrics: %s failed: %s", getattr(fn, "__name__", fn), exc)
        return None


def _putter(values: Sample) -> Callable[[str, Callable[[], float]], None]:
    def put(key: str, probe: Callable[[], float]) -> None:
        try:
            value = float(probe())
        except Exception as exc:  # this metric is left out of this sample
            log.debug("gittrack: system metric %s failed: %s", key, exc)
            return
        if math.isfinite(value):
            values[key] = value

    return put


class Sampler:
    """The thread that samples every ``interval`` seconds until ``stop()``, which takes a
    last sample at once (it never waits for the interval) and returns."""

    def __init__(self, record: Recorder, interval: float, disk_path: str, name: str) -> None:
        self._record = record
        self._interval = interval
        self._disk_path = disk_path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(_STOP_TIMEOUT)

    def _loop(self) -> None:
        try:
            probes = Probes(self._disk_path, NVML_LOADER())
        except Exception as exc:  # no psutil for this platform: no system metrics
            log.warning("gittrack: system metrics are off: %s", exc)
            return
        try:
            while not self._stop.wait(self._interval):
                self._take(probes)
            self._take(probes)
        finally:
            probes.close()

    def _take(self, probes: Probes) -> None:
        values = probes.sample()
        if not values:
            return
        try:
            self._record(time.time(), values)
        except Exception as exc:  # the run finished or its disk is full: the run reports it
            log.debug("gittrack: system sample not recorded: %s", exc)


def maker(rows: Sequence[SystemRow], start_time: float) -> Maker:
    """What a checkpoint writes for these samples: one table of ``system/``."""

    def make() -> Extra:
        from gittrack.formats import table

        columns: dict[str, list[float | None]] = {}
        for i, (_, _, values) in enumerate(rows):
            for key, value in values.items():
                column = columns.get(key)
                if column is None:
                    column = columns[key] = [None] * len(rows)
                column[i] = value
        times = [t for _, t, _ in rows]
        return Extra(tables={layout.SYSTEM_DIR: [table.history_table(
            [s for s, _, _ in rows], times, [t - start_time for t in times], columns)]})

    return make


def sampler_for(run_id: str, settings: Settings, disk_path: str,
                record: Recorder) -> Sampler | None:
    """The run's sampler (not started), or ``None`` when its settings or the environment
    (``GITTRACK_SYSTEM_METRICS=0``) turn system metrics off."""
    if not system_metrics_enabled(settings, os.environ):
        return None
    return Sampler(record, settings.system_interval, disk_path, f"gittrack-system-{run_id}")
