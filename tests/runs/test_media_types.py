"""Video, audio, tables, charts and plotly figures through a live run: log → finish →
``Api().run(...).media(key)`` gives back what was logged; bad input refused in ``log()``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import gittrack
from gittrack.errors import InvalidValueError
from gittrack.git.repo import discover
from gittrack.runs import media_index
from gittrack.runs.view import RunView
from tests.helpers.runs import start_run


def view(run_id: str) -> RunView:
    return gittrack.Api(".").run(run_id)


def frames(t: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (8, 3), dtype=np.uint8)
    return np.ascontiguousarray(colours[rng.integers(0, 8, (t, 10, 14))].transpose(0, 3, 1, 2))


def tone(n: int = 800) -> np.ndarray:
    return (0.5 * np.sin(np.arange(n) / 5)).astype(np.float32)


def test_video_and_audio_read_back(repo: Path) -> None:
    run = start_run()
    for step in range(2):
        run.log({"gif": gittrack.Video(frames(seed=step), fps=5, caption=f"s{step}"),
                 "mp4": gittrack.Video(frames(seed=step), fps=10, format="mp4"),
                 "sound": gittrack.Audio(tone(), sample_rate=8000),
                 "loss": float(step)})
    run.finish()
    v = view(run.id)
    gifs = list(v.media("gif"))
    assert [s for s, _ in gifs] == [0, 1]
    for step, video in gifs:
        assert isinstance(video, gittrack.Video) and video.caption == f"s{step}"
        assert video.fps == 5 and video.format == "gif"
        assert np.array_equal(video.numpy(), frames(seed=step))
    (_, mp4), _ = v.media("mp4")
    assert mp4.format == "mp4" and mp4.numpy().shape == (4, 3, 10, 14)
    (_, sound), _ = v.media("sound")
    assert isinstance(sound, gittrack.Audio) and sound.sample_rate == 8000
    assert sound.duration == pytest.approx(0.1)
    assert np.abs(sound.numpy() - tone()).max() <= 1 / 32767
    rows = media_index.read_rows(discover("."), v.commit, "mp4")
    assert (rows[0].type, rows[0].format, rows[0].length) == ("video", "mp4", 4.0)


def test_table_with_media_cells_reads_back_whole(repo: Path) -> None:
    image = np.random.default_rng(1).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    table = gittrack.Table(columns=["id", "label", "image", "sound"])
    table.add_data(0, "cat", gittrack.Image(image), None)
    table.add_data(1, "dog", None, gittrack.Audio(tone(), sample_rate=8000))
    plain = gittrack.Table(columns=["a", "b"], data=[[1, "x"], [2.5, None]])
    run = start_run()
    run.log({"preds": table, "plain": plain})
    run.log({"both": [plain, table]})
    run.finish()
    v = view(run.id)
    (_, back), = v.media("preds")
    assert isinstance(back, gittrack.Table) and back.columns == table.columns
    assert [row[:2] for row in back.data] == [[0, "cat"], [1, "dog"]]
    assert np.array_equal(back.data[0][2].numpy(), image) and back.data[1][2] is None
    assert back.data[1][3].duration == pytest.approx(0.1)
    (_, same), = v.media("plain")
    assert same == plain
    (_, listed), = v.media("both")
    assert isinstance(listed, list) and len(listed) == 2 and listed[0] == plain
    assert np.array_equal(listed[1].data[0][2].numpy(), image)


def test_charts_and_plotly_read_back(repo: Path) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    y_true = np.array([0, 1, 2, 1, 0, 2])
    probas = np.eye(3)[[0, 1, 1, 1, 0, 2]] * 0.7 + 0.1
    pr = gittrack.plot.pr_curve(y_true, probas, labels=["a", "b", "c"])
    line = gittrack.plot.line(gittrack.Table(columns=["x", "y"], data=[[0, 1], [1, 0]]),
                              "x", "y", title="down")
    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[2, 1, 3]))
    run = start_run()
    run.log({"pr": pr, "line": line, "fig": figure})
    run.finish()
    v = view(run.id)
    (_, back), = v.media("pr")
    assert back.spec == pr.spec and back.table == pr.table
    (_, drawn), = v.media("line")
    assert drawn.spec["title"] == "down" and drawn.table.data == [[0, 1], [1, 0]]
    (_, fig), = v.media("fig")
    assert fig.spec["data"][0]["y"] == [2, 1, 3]
    assert sorted(v.media_keys()) == ["fig", "line", "pr"]


@pytest.mark.parametrize("bad", [
    lambda: gittrack.Video(np.zeros((2, 8, 8), np.uint8)),
    lambda: gittrack.Audio(tone()),
    lambda: gittrack.plot.vega({"mark": "point", "width": float("nan")},
                               gittrack.Table(columns=["a"])),
])
def test_bad_values_refused_before_anything_is_recorded(repo: Path, bad: object) -> None:
    run = start_run()
    run.log({"loss": 1.0})
    with pytest.raises(InvalidValueError):
        run.log({"value": bad(), "loss": 2.0})  # type: ignore[operator]
    run.log({"loss": 3.0})
    run.finish()
    v = view(run.id)
    assert v.history(format="arrow").column("loss").to_pylist() == [1.0, 3.0]
    assert v.media_keys() == []


def test_a_table_changed_after_it_was_made_is_refused_in_log(repo: Path) -> None:
    table = gittrack.Table(columns=["a", "b"], data=[[1, 2]])
    table.data.append([3])
    run = start_run()
    with pytest.raises(InvalidValueError, match=r"'preds'.*row 1 has 1 cells"):
        run.log({"preds": table, "loss": 1.0})
    run.finish()
    assert view(run.id).media_keys() == []


def test_mp4_without_pyav_is_refused_in_log(repo: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    run = start_run()
    with pytest.raises(InvalidValueError, match=r"'clip'.*gittrack\[video\]"):
        run.log({"clip": gittrack.Video(frames(), format="mp4"), "loss": 1.0})
    run.log({"clip": gittrack.Video(frames())})
    run.finish()
    assert [v.format for _, v in view(run.id).media("clip")] == ["gif"]


def test_killed_after_log_recovery_encodes_video_and_tables(repo: Path) -> None:
    from gittrack.runs.recover import recover_dead_runs
    from tests.helpers.processes import killed

    script = (
        "import os, signal, numpy as np, gittrack\n"
        "run = gittrack.init(settings={'quiet': True, 'checkpoint_interval': 3600})\n"
        "print(run.id, flush=True)\n"
        "frames = np.zeros((3, 3, 8, 8), np.uint8); frames[1] += 200\n"
        "t = gittrack.Table(columns=['n', 'clip'])\n"
        "t.add_data(1, gittrack.Video(frames, format='mp4'))\n"
        "run.log({'clip': gittrack.Video(frames), 'table': t, 'x': 1})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    run_id = killed(script, repo).stdout.strip()
    assert recover_dead_runs(discover(".")) == [run_id]
    v = view(run_id)
    expected = np.zeros((3, 3, 8, 8), np.uint8)
    expected[1] += 200
    (_, clip), = v.media("clip")
    assert np.array_equal(clip.numpy(), expected)
    (_, table), = v.media("table")
    assert table.columns == ["n", "clip"] and table.data[0][0] == 1
    decoded = table.data[0][1].numpy()
    assert decoded.shape == (3, 3, 8, 8) and np.abs(decoded.astype(int) - expected).mean() < 8
