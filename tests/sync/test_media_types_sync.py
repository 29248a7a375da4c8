"""Video, audio, tables (with media cells) and charts read back equal from a fresh clone after
push and pull: their blobs travel like every media blob."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gittrack
from tests.helpers.repos import MakeClone
from tests.helpers.storage import share_storage


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return str(result.stdout)


def test_round_trip_through_a_fresh_clone(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "team-store"))
    frames = np.random.default_rng(0).integers(0, 4, (3, 3, 6, 8), dtype=np.uint8) * 60
    sound = np.linspace(-1, 1, 400, dtype=np.float32)
    table = gittrack.Table(columns=["id", "clip", "sound"],
                           data=[[0, gittrack.Video(frames), gittrack.Audio(sound, 400)]])
    chart = gittrack.plot.bar(gittrack.Table(columns=["k", "v"], data=[["a", 1], ["b", 2]]),
                              "k", "v")
    run = gittrack.init(repo=str(a), settings={"quiet": True})
    run.log({"video": gittrack.Video(frames, fps=2), "table": table, "chart": chart})
    run.finish()
    monkeypatch.chdir(a)
    ok(cli("push"))
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    ok(cli("pull"))
    view = gittrack.Api(str(b)).run(run.id)
    (_, video), = view.media("video")
    assert np.array_equal(video.numpy(), frames) and video.fps == 2
    (_, back), = view.media("table")
    assert back.data[0][0] == 0 and np.array_equal(back.data[0][1].numpy(), frames)
    assert back.data[0][2].duration == pytest.approx(1.0)
    (_, drawn), = view.media("chart")
    assert drawn == chart
