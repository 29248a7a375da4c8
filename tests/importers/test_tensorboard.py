"""``gittrack.importers.tensorboard``: event files written by real SummaryWriters, read back
value by value with TensorBoard's own ``EventAccumulator``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pygit2
import pytest

import gittrack
from gittrack.errors import UsageError
from gittrack.importers.tensorboard import import_logdir, run_folders
from gittrack.runs.metadata import parse_iso


def write_run(logdir: Path, *, steps: int = 20, restart: bool = False, tbx: bool = False) -> None:
    if tbx:
        from tensorboardX import SummaryWriter
    else:
        from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(logdir))
    rng = np.random.default_rng(len(str(logdir)))
    writer.add_text("hyperparameters", "|lr|0.1|", 0)
    for step in range(steps):
        writer.add_scalar("train/loss", float(rng.random()), step)
        if step % 3 == 0:
            writer.add_scalar("eval/acc", float(rng.random()), step)
        if step % 10 == 0:
            writer.add_histogram("weights", rng.normal(size=64), step)
    writer.add_image("sample", rng.random((3, 5, 7)), steps - 1)
    if restart:  # a training resumed from a checkpoint writes steps again
        for step in range(steps - 3, steps):
            writer.add_scalar("train/loss", -float(step), step)
    writer.close()


def accumulated(folder: Path) -> Any:
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0},
                                             purge_orphaned_data=False)
    acc.Reload()
    return acc


def imported_scalars(run_id: str) -> dict[str, list[tuple[int, float, float]]]:
    frame = gittrack.Api(".").run(run_id).history()
    found: dict[str, list[tuple[int, float, float]]] = {}
    for row in frame.to_dict("records"):
        for key, value in row.items():
            if not key.startswith("_") and isinstance(value, float) and not math.isnan(value):
                found.setdefault(key, []).append((row["_step"], row["_timestamp"], value))
    return found


def test_history_equals_the_event_files_value_by_value(repo: Path) -> None:
    logdir = repo / "runs"
    write_run(logdir / "exp1", restart=True)
    write_run(logdir / "exp2" / "seed0", tbx=True)
    report = import_logdir(pygit2.Repository(str(repo)), logdir)
    assert report.failed == []
    assert [(f.relative_to(logdir).as_posix(), d.created) for f, d in report.imported] == [
        ("exp1", True), ("exp2/seed0", True)]
    for folder, done in report.imported:
        source = accumulated(folder)
        got = imported_scalars(done.run_id)
        tags = source.Tags()["scalars"]
        assert sorted(got) == sorted(tags)
        for tag in tags:
            expected = sorted((e.step, e.wall_time, e.value) for e in source.Scalars(tag))
            assert sorted((s, v) for s, _, v in got[tag]) == sorted((s, v) for s, _, v in expected)
            assert sorted(t for _, t, _ in got[tag]) == pytest.approx(
                sorted(t for _, t, _ in expected))
        view = gittrack.Api(".").run(done.run_id)
        assert view.state == "finished"
        assert view.name == folder.relative_to(logdir).as_posix()
        assert view.metadata["imported_from"] == {"kind": "tensorboard",
                                                  "source": str(folder.resolve())}
        assert view.summary["hyperparameters"] == "|lr|0.1|"
        assert list(view.histograms("weights")["_step"]) == [0, 10]
        assert [s for s, _ in view.media("sample")] == [19]
        first = min(e.wall_time for t in tags for e in source.Scalars(t))
        assert parse_iso(view.created_at) <= first < parse_iso(view.created_at) + 1


def test_reimport_makes_no_second_run(repo: Path) -> None:
    logdir = repo / "tb"
    write_run(logdir, steps=5)
    git = pygit2.Repository(str(repo))
    first = import_logdir(git, logdir).imported
    again = import_logdir(git, logdir).imported
    assert [d.created for _, d in first] == [True]
    assert [d.created for _, d in again] == [False]
    assert again[0][1].run_id == first[0][1].run_id
    assert [r.id for r in gittrack.Api(".").runs()] == [first[0][1].run_id]


def test_a_moved_log_folder_is_still_the_same_run(repo: Path, tmp_path: Path) -> None:
    write_run(tmp_path / "a" / "run", steps=3)
    git = pygit2.Repository(str(repo))
    (done,) = [d for _, d in import_logdir(git, tmp_path / "a").imported]
    (tmp_path / "a").rename(tmp_path / "b")
    (again,) = [d for _, d in import_logdir(git, tmp_path / "b").imported]
    assert (again.run_id, again.created) == (done.run_id, False)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_damaged_event_file_is_named_and_the_others_imported(
        repo: Path, damage: str) -> None:
    logdir = repo / "runs"
    write_run(logdir / "good", steps=4)
    write_run(logdir / "bad", steps=4)
    (bad,) = (logdir / "bad").glob("events.out.tfevents.*")
    data = bad.read_bytes()
    if damage == "truncate":
        bad.write_bytes(data[: len(data) - 7])
    elif damage == "flip":
        middle = len(data) // 2
        bad.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    else:
        bad.write_bytes(b"\xff" * 40 + data)
    report = import_logdir(pygit2.Repository(str(repo)), logdir)
    assert [f.name for f, d in report.imported] == ["good"]
    (failed,) = report.failed
    assert failed.folder == logdir / "bad"
    assert str(bad) in failed.reason and "damaged" in failed.reason
    assert len(gittrack.Api(".").runs()) == 1


def test_run_folders_are_those_with_event_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "events.out.tfevents.1.host").write_bytes(b"")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("x")
    assert run_folders(tmp_path) == [tmp_path / "a" / "b"]


def test_no_event_files_is_refused(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no TensorBoard event files"):
        import_logdir(pygit2.Repository(str(repo)), tmp_path)


def _record(data: bytes) -> bytes:
    import struct

    from gittrack.formats.tbevents import _masked_crc

    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", _masked_crc(length)) + data
            + struct.pack("<I", _masked_crc(data)))


def test_hostile_values_are_skipped_and_named(repo: Path) -> None:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    def event(step: int, wall: float, **tags: float) -> bytes:
        values = [summary_pb2.Summary.Value(tag=t.replace("__", "/"), simple_value=v)
                  for t, v in tags.items()]
        return _record(event_pb2.Event(step=step, wall_time=wall, summary=summary_pb2.Summary(
            value=values)).SerializeToString())

    folder = repo / "tb" / "forged"
    folder.mkdir(parents=True)
    (folder / "events.out.tfevents.1.forged").write_bytes(b"".join([
        event(0, 1_700_000_000.0, loss=1.0),
        event(1, float("nan"), loss=float("nan"), _step=3.0),
        event(-4, 1_700_000_002.0, loss=9.0),
        event(2, 1e30, loss=0.5, **{"a____b": 1.0}),
    ]))
    report = import_logdir(pygit2.Repository(str(repo)), repo / "tb")
    assert report.failed == []
    assert set(report.skipped_tags) == {"_step", "loss", "a//b"}
    assert "negative step" in report.skipped_tags["loss"]
    ((_, done),) = report.imported
    frame = gittrack.Api(".").run(done.run_id).history()
    assert list(frame["_step"]) == [0, 1, 2]
    assert frame["loss"][0] == 1.0 and math.isnan(frame["loss"][1]) and frame["loss"][2] == 0.5
    # a forged time keeps the time of the event before it
    assert list(frame["_timestamp"]) == [1_700_000_000.0, 1_700_000_000.0, 1_700_000_002.0]


def test_a_forged_record_length_is_refused_without_reading_it(repo: Path) -> None:
    import struct

    from gittrack.formats.tbevents import _masked_crc

    folder = repo / "tb" / "huge"
    folder.mkdir(parents=True)
    length = struct.pack("<Q", 2**62)
    (folder / "events.out.tfevents.1.x").write_bytes(
        length + struct.pack("<I", _masked_crc(length)) + b"x" * 16)
    report = import_logdir(pygit2.Repository(str(repo)), repo / "tb")
    (failed,) = report.failed
    assert "would end past the end of the file" in failed.reason


@pytest.mark.parametrize("tbx", [False, True], ids=["torch", "tensorboardX"])
def test_hparams_become_the_config(repo: Path, tbx: bool) -> None:
    if tbx:
        from tensorboardX import SummaryWriter
    else:
        from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(repo / "tb"))
    hparams = {"lr": 0.01, "optimizer": "adam", "layers": 3, "dropout": True}
    if tbx:
        writer.add_hparams(hparams, {"hparam/loss": 0.25}, name="trial0")
    else:
        writer.add_hparams(hparams, {"hparam/loss": 0.25}, run_name="trial0")
    writer.close()
    report = import_logdir(pygit2.Repository(str(repo)), repo / "tb")
    (done,) = [d for f, d in report.imported if f.name == "trial0"]  # a folder of its own
    view = gittrack.Api(".").run(done.run_id)
    assert view.config == {"lr": 0.01, "optimizer": "adam", "layers": 3, "dropout": True}
    assert view.summary["hparam/loss"] == 0.25
