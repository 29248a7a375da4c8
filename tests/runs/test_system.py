"""System metrics: the sampler thread of a live run, its probes, and what a run stores."""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

import gittrack
from gittrack.errors import InvalidSettingError
from gittrack.runs import system
from gittrack.runs.system import Probes
from tests.helpers.processes import killed_run
from tests.helpers.repos import git

FAST = {"quiet": True, "checkpoint_interval": 0.2, "system_interval": 0.1}


class NVMLError(Exception):
    pass


def fake_nvml(gpus: int = 2, broken: tuple[str, ...] = ()) -> Any:
    """A stand-in for ``pynvml`` with ``gpus`` devices (there is no GPU here): GPU ``i`` is
    ``10 × (i + 1)`` % busy, has 16 GiB of which ``i + 1`` GiB are used, runs at ``60 + i`` °C
    and draws ``100 + i`` W of a 300 W limit. The functions named in ``broken`` raise."""
    gib = 1024 ** 3

    def fn(name: str, body: Any) -> Any:
        def call(*args: Any) -> Any:
            if name in broken:
                raise NVMLError(f"{name}: Not Supported")
            return body(*args)
        return call

    return types.SimpleNamespace(
        NVML_TEMPERATURE_GPU=0,
        nvmlInit=fn("nvmlInit", lambda: None),
        nvmlShutdown=fn("nvmlShutdown", lambda: None),
        nvmlDeviceGetCount=fn("nvmlDeviceGetCount", lambda: gpus),
        nvmlDeviceGetHandleByIndex=fn("nvmlDeviceGetHandleByIndex", lambda i: i),
        nvmlDeviceGetUtilizationRates=fn("nvmlDeviceGetUtilizationRates", lambda h:
                                         types.SimpleNamespace(gpu=10 * (h + 1), memory=5)),
        nvmlDeviceGetMemoryInfo=fn("nvmlDeviceGetMemoryInfo", lambda h: types.SimpleNamespace(
            total=16 * gib, used=(h + 1) * gib, free=(15 - h) * gib)),
        nvmlDeviceGetTemperature=fn("nvmlDeviceGetTemperature", lambda h, kind: 60 + h),
        nvmlDeviceGetPowerUsage=fn("nvmlDeviceGetPowerUsage", lambda h: (100 + h) * 1000),
        nvmlDeviceGetEnforcedPowerLimit=fn("nvmlDeviceGetEnforcedPowerLimit",
                                           lambda h: 300_000),
    )


def test_a_run_records_plausible_samples(repo: Path) -> None:
    with gittrack.init(settings={**FAST, "checkpoint_interval": 3600}) as run:
        for i in range(3):
            run.log({"x": i})
        while len(run._state.system) < 2:  # two samples (no checkpoint takes them), then finish
            time.sleep(0.01)
    rows = gittrack.Api().run(run.id).history(stream="system", format="arrow").to_pylist()
    assert len(rows) >= 3  # two while live, and the last at finish
    cores = os.cpu_count() or 1
    for row in rows:
        assert 0 <= row["system.cpu"] <= 100
        assert 0 <= row["system.proc.cpu.percent"] <= 100 * cores
        assert row["system.proc.memory.rssMB"] > 0
        assert 0 < row["system.memory"] < 100
        assert row["system.proc.memory.availableMB"] > 0
        assert 0 < row["system.disk"] <= 100
        assert row["system.network.sent"] >= 0 and row["system.disk.in"] >= 0
        assert row["system.proc.cpu.threads"] >= 2  # the main thread and the sampler
        assert row["_runtime"] >= 0 and row["_timestamp"] > 1.7e9
        assert 0 <= row["_step"] <= 3
    assert rows[-1]["_step"] == 3  # the last sample: after the three steps
    assert [r["_timestamp"] for r in rows] == sorted(r["_timestamp"] for r in rows)
    assert not any(k.startswith("system.gpu") for k in rows[0])  # no GPU, no NVML here


def test_system_rows_stay_out_of_history(repo: Path) -> None:
    with gittrack.init(settings=FAST) as run:
        run.log({"x": 1})
    view = gittrack.Api().run(run.id)
    assert list(view.history().columns) == ["_step", "_timestamp", "_runtime", "x"]
    assert len(view.system()) >= 1
    tree = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run.id}")
    assert any(p.startswith("system/") for p in tree.split())


def test_finish_takes_a_last_sample_without_waiting_for_the_interval(repo: Path) -> None:
    with gittrack.init(settings={**FAST, "system_interval": 3600}) as run:
        run.log({"x": 1})
    # the sampler's wait of an hour was cut short: the last sample is there
    assert len(gittrack.Api().run(run.id).system()) == 1


@pytest.mark.parametrize("settings", [
    {"system_metrics": False}, {"x_disable_stats": True}, {"_disable_stats": True},
])
def test_the_setting_off_records_none(repo: Path, settings: dict[str, Any]) -> None:
    with gittrack.init(settings={**FAST, **settings}) as run:
        run.log({"x": 1})
    assert run._sampler is None
    view = gittrack.Api().run(run.id)
    assert view.system().empty
    tree = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run.id}")
    assert not any(p.startswith("system/") for p in tree.split())


def test_the_environment_turns_it_off(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITTRACK_SYSTEM_METRICS", "0")
    with gittrack.init(settings=FAST) as run:
        run.log({"x": 1})
    assert gittrack.Api().run(run.id).system().empty


def test_a_bad_environment_value_is_refused(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITTRACK_SYSTEM_METRICS", "maybe")
    with pytest.raises(InvalidSettingError, match="GITTRACK_SYSTEM_METRICS"):
        gittrack.init(settings=FAST)


def test_a_killed_run_keeps_its_samples(repo: Path) -> None:
    run_id = killed_run(
        repo, settings="{'quiet': True, 'checkpoint_interval': 3600, 'system_interval': 0.1}",
        steps=5, then="import time\nwhile len(run._state.system) < 3:\n    time.sleep(0.01)\n")
    view = gittrack.Api(".", recover=True).run(run_id)
    assert view.state == "crashed"
    rows = view.system(format="arrow").to_pylist()
    assert len(rows) >= 3  # only in the write-ahead log when the process died
    assert all(r["system.proc.memory.rssMB"] > 0 and r["_step"] == 5 for r in rows)


def test_fake_nvml_gives_per_gpu_keys(tmp_path: Path) -> None:
    probes = Probes(str(tmp_path), fake_nvml(gpus=2))
    values = probes.sample()
    probes.close()
    for i in (0, 1):
        prefix = f"system.gpu.{i}."
        assert values[prefix + "gpu"] == 10 * (i + 1)
        assert values[prefix + "memory"] == 5
        assert values[prefix + "memoryAllocated"] == pytest.approx(100 * (i + 1) / 16)
        assert values[prefix + "memoryAllocatedBytes"] == (i + 1) * 1024 ** 3
        assert values[prefix + "memoryTotalBytes"] == 16 * 1024 ** 3
        assert values[prefix + "temp"] == 60 + i
        assert values[prefix + "powerWatts"] == 100 + i
        assert values[prefix + "powerPercent"] == pytest.approx((100 + i) / 3)
    assert "system.gpu.2.gpu" not in values


def test_a_failing_nvml_probe_is_skipped(tmp_path: Path) -> None:
    probes = Probes(str(tmp_path), fake_nvml(gpus=1, broken=(
        "nvmlDeviceGetTemperature", "nvmlDeviceGetPowerUsage")))
    values = probes.sample()
    assert "system.gpu.0.temp" not in values and "system.gpu.0.powerWatts" not in values
    assert values["system.gpu.0.gpu"] == 10 and values["system.proc.memory.rssMB"] > 0


def test_nvml_without_devices_gives_no_gpu_keys(tmp_path: Path) -> None:
    values = Probes(str(tmp_path), fake_nvml(broken=("nvmlDeviceGetCount",))).sample()
    assert not any(k.startswith("system.gpu") for k in values) and "system.cpu" in values


def test_a_failing_psutil_probe_is_skipped(tmp_path: Path) -> None:
    values = Probes(str(tmp_path / "gone"), None).sample()  # disk_usage raises: no such path
    assert "system.disk" not in values and "system.disk.usageGB" not in values
    assert values["system.proc.memory.rssMB"] > 0 and "system.cpu" in values


def test_a_run_with_a_fake_gpu(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "NVML_LOADER", lambda: fake_nvml(gpus=1, broken=(
        "nvmlDeviceGetEnforcedPowerLimit",)))
    with gittrack.init(settings=FAST) as run:
        run.log({"x": 1})
    row = gittrack.Api().run(run.id).system(format="arrow").to_pylist()[-1]
    assert row["system.gpu.0.gpu"] == 10 and row["system.gpu.0.powerWatts"] == 100
    assert "system.gpu.0.powerPercent" not in row  # no limit known: left out, not an error


def test_a_sampler_that_cannot_record_does_not_raise(tmp_path: Path) -> None:
    calls: list[int] = []

    def record(t: float, values: dict[str, float]) -> None:
        calls.append(1)
        raise gittrack.RunFinishedError("finished")

    sampler = system.Sampler(record, 3600, str(tmp_path), "test-sampler").start()
    sampler.stop()
    assert calls == [1] and not sampler._thread.is_alive()


def test_history_refuses_an_unknown_stream(repo: Path) -> None:
    with gittrack.init(settings=FAST) as run:
        run.log({"x": 1})
    with pytest.raises(InvalidSettingError, match="stream"):
        gittrack.Api().run(run.id).history(stream="events")


def test_system_chunks_are_compacted_like_history(repo: Path, no_fsync: None) -> None:
    checkpoints = 2 * 16 + 3  # past two merges of MERGE_FACTOR (16) chunks
    run = gittrack.init(settings={"quiet": True, "checkpoint_interval": 3600,
                                  "system_metrics": False})
    for i in range(checkpoints):
        run.log({"x": i})
        run._record(("system", 0, time.time(), {"system.cpu": float(i)}))  # as the sampler does
        run._checkpoint()
    run.finish()
    tree = git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run.id}", "system/")
    paths = tree.split()
    assert len(paths) < checkpoints  # merged: fewer files than checkpoints
    assert any(p.startswith("system/1/") for p in paths)  # a merged chunk at level 1
    rows = gittrack.Api().run(run.id).system(format="arrow").to_pylist()
    assert [r["system.cpu"] for r in rows] == [float(i) for i in range(checkpoints)]
    assert [r["_step"] for r in rows] == list(range(1, checkpoints + 1))  # the step then open


def test_a_pynvml_module_is_used_when_importable(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(gpus=2))  # as if nvidia-ml-py were there
    with gittrack.init(settings=FAST) as run:
        run.log({"x": 1})
    row = gittrack.Api().run(run.id).system(format="arrow").to_pylist()[-1]
    assert row["system.gpu.1.gpu"] == 20 and row["system.gpu.1.temp"] == 61
    assert row["system.gpu.0.memoryAllocatedBytes"] == 1024 ** 3


def test_an_nvml_that_cannot_start_gives_no_gpu_keys(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(broken=("nvmlInit",)))  # no driver
    assert system.load_nvml() is None
    with gittrack.init(settings=FAST) as run:
        run.log({"x": 1})
    row = gittrack.Api().run(run.id).system(format="arrow").to_pylist()[-1]
    assert not any(k.startswith("system.gpu") for k in row) and row["system.cpu"] >= 0


def test_a_resumed_run_adds_its_samples_after_the_first_ones(repo: Path) -> None:
    settings = {**FAST, "system_interval": 3600}  # one sample each: at finish
    with gittrack.init(id="sampled", settings=settings) as run:
        run.log({"x": 1})
    with gittrack.init(id="sampled", resume="must", settings=settings) as run:
        run.log({"x": 2})
        run.log({"x": 3})
    rows = gittrack.Api().run("sampled").system(format="arrow").to_pylist()
    assert [r["_step"] for r in rows] == [1, 3]
    assert rows[0]["_timestamp"] < rows[1]["_timestamp"]
