"""`gittrack import tensorboard LOGDIR`, end to end through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gittrack
from tests.helpers.cli import Cli


def write_events(logdir: Path, steps: int = 4) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(logdir))
    for step in range(steps):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.close()


def test_import_then_import_again(cli: Cli, repo: Path) -> None:
    write_events(repo / "tb" / "a")
    write_events(repo / "tb" / "b", steps=2)
    result = cli("import", "tensorboard", "tb")
    assert result.exit_code == 0, result.stderr
    assert [line.split(" as run ")[0] for line in result.stdout.splitlines()] == [
        "imported tb/a", "imported tb/b"]
    runs = {r.name: r for r in gittrack.Api(".").runs()}
    assert sorted(runs) == ["a", "b"]
    assert list(runs["a"].history()["loss"]) == pytest.approx([1.0, 0.5, 1 / 3, 0.25])
    again = cli("import", "tensorboard", "tb", "--json")
    assert again.exit_code == 0, again.stderr
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    assert [(x["name"], x["created"]) for x in lines] == [("a", False), ("b", False)]
    assert len(gittrack.Api(".").runs()) == 2


def test_damaged_file_is_named_others_imported(cli: Cli, repo: Path) -> None:
    write_events(repo / "tb" / "good")
    write_events(repo / "tb" / "hostile")
    (events,) = (repo / "tb" / "hostile").glob("events.out.tfevents.*")
    events.write_bytes(b"\x00\x01garbage" * 3)
    result = cli("import", "tensorboard", "tb", "--project", "imports")
    assert result.exit_code == 1
    assert "imported tb/good" in result.stdout
    assert f"cannot import tb/hostile: event file tb/hostile/{events.name} is damaged" in (
        result.stderr)
    assert "Traceback" not in result.stderr
    assert [(r.name, r.info.project) for r in gittrack.Api(".").runs()] == [("good", "imports")]


def test_logdir_without_event_files_is_one_line(cli: Cli, repo: Path) -> None:
    (repo / "empty").mkdir()
    result = cli("import", "tensorboard", "empty")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no TensorBoard event files" in result.stderr
