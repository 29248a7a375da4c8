"""``sync_tensorboard=True`` / ``gittrack.tensorboard.patch()``: real SummaryWriter loops."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gittrack
import gittrack.tensorboard
from gittrack.errors import GittrackWarning, UsageError
from gittrack.formats.histogram import Histogram


@pytest.fixture(autouse=True)
def unpatched() -> Iterator[None]:
    yield
    gittrack.tensorboard.unpatch()


def torch_writer(logdir: Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(logdir))


def tbx_writer(logdir: Path) -> Any:
    from tensorboardX import SummaryWriter

    return SummaryWriter(str(logdir))


WRITERS = [pytest.param(torch_writer, id="torch"), pytest.param(tbx_writer, id="tensorboardX")]


def history(run_id: str) -> list[dict[str, Any]]:
    frame = gittrack.Api(".").run(run_id).history()
    return [{k: v for k, v in row.items() if not k.startswith("_") and v == v and v is not None}
            | {"_step": row["_step"]} for row in frame.to_dict("records")]


@pytest.mark.parametrize("make_writer", WRITERS)
def test_scalars_histograms_image_text_land_with_their_steps(
        repo: Path, fast_settings: dict[str, object], make_writer: Any) -> None:
    run = gittrack.init(project="p", sync_tensorboard=True, settings=fast_settings)
    writer = make_writer(repo / "runs" / "a")
    rng = np.random.default_rng(0)
    writer.add_text("notes", "hello *tensorboard*", 0)
    for step in (0, 5, 10):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("acc", step / 10, step)
        writer.add_histogram("weights", rng.normal(size=200), step)
    writer.add_image("sample", rng.random((3, 6, 4)), 10)
    writer.close()
    run.finish()

    rows = history(run.id)
    assert [r["_step"] for r in rows] == [0, 5, 10]
    assert [r["loss"] for r in rows] == pytest.approx([1.0, 1 / 6, 1 / 11])
    assert [r["acc"] for r in rows] == pytest.approx([0.0, 0.5, 1.0])
    assert rows[0]["notes"] == "hello *tensorboard*"
    view = gittrack.Api(".").run(run.id)
    hists = view.histograms("weights")
    assert list(hists["_step"]) == [0, 5, 10]
    assert [sum(c) for c in hists["counts"]] == [200, 200, 200]
    (step, image), = list(view.media("sample"))
    assert step == 10 and (image.width, image.height) == (4, 6)


@pytest.mark.parametrize("make_writer", WRITERS)
def test_add_scalars_and_figure_are_recorded(
        repo: Path, fast_settings: dict[str, object], make_writer: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    writer = make_writer(repo / "runs" / "main")
    writer.add_scalars("loss", {"train": 0.5, "val": 0.7}, 3)
    writer.add_scalar("lr", 0.25, 3)
    figure = plt.figure(figsize=(1, 1))
    plt.plot([0, 1], [1, 0])
    writer.add_figure("curve", figure, 3)
    writer.close()
    run.finish()
    view = gittrack.Api(".").run(run.id)
    # add_scalars writes each series to a log folder of its own: main/loss_train, main/loss_val
    # (tensorboardX: main/loss/train, main/loss/val)
    series = "loss_{}/loss" if make_writer is torch_writer else "loss/{}/loss"
    assert view.summary[series.format("train")] == 0.5
    assert view.summary[series.format("val")] == pytest.approx(0.7)
    assert view.summary["lr"] == 0.25  # the writer's own folder: bare tags
    assert view.media_keys() == ["curve"]


def test_cleanrl_style_script_records_all_its_metrics(
        repo: Path, fast_settings: dict[str, object]) -> None:
    config = {"learning_rate": 2.5e-4, "seed": 1, "env_id": "CartPole-v1"}
    run_name = "CartPole-v1__ppo__1__1700000000"
    run = gittrack.init(project="cleanRL", config=config, name=run_name,
                        sync_tensorboard=True, save_code=False, settings=fast_settings)
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(f"runs/{run_name}")
    table = "\n".join(f"|{k}|{v}|" for k, v in config.items())
    writer.add_text("hyperparameters", f"|param|value|\n|-|-|\n{table}")
    expected: dict[int, dict[str, float]] = {}
    for global_step in range(0, 2048, 128):
        values = {"charts/episodic_return": float(global_step % 500),
                  "charts/learning_rate": 2.5e-4 * (1 - global_step / 2048),
                  "losses/value_loss": 1.0 / (1 + global_step)}
        for key, value in values.items():
            writer.add_scalar(key, value, global_step)
        expected[global_step] = values
    writer.close()
    gittrack.finish()

    rows = {r["_step"]: r for r in history(run.id)}
    assert sorted(rows) == sorted(expected)
    for step, values in expected.items():
        for key, value in values.items():
            assert rows[step][key] == pytest.approx(value, rel=1e-6), (step, key)
    assert rows[0]["hyperparameters"].startswith("|param|value|")
    assert gittrack.Api(".").run(run.id).config == config


def train_and_val(repo: Path, make_writer: Any) -> None:
    train, val = make_writer(repo / "tb" / "train"), make_writer(repo / "tb" / "val")
    train.add_scalar("loss", 1.0, 1)
    val.add_scalar("loss", 2.0, 1)
    train.close()
    val.close()


def test_second_log_folder_gets_a_prefix(repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    train_and_val(repo, torch_writer)
    run.finish()
    assert gittrack.Api(".").run(run.id).summary == {"loss": 1.0, "val/loss": 2.0}


def test_root_logdir_prefixes_every_folder_under_it(
        repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(settings=fast_settings)
    gittrack.tensorboard.patch(root_logdir=repo / "tb")
    train_and_val(repo, tbx_writer)
    run.finish()
    assert gittrack.Api(".").run(run.id).summary == {"train/loss": 1.0, "val/loss": 2.0}


def test_unpatch_stops_syncing(repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    assert gittrack.tensorboard.patched()
    gittrack.tensorboard.unpatch()
    writer = torch_writer(repo / "runs" / "x")
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    run.finish()
    assert gittrack.Api(".").run(run.id).summary == {}
    assert list((repo / "runs" / "x").glob("events.out.tfevents.*"))  # TensorBoard's own file


def test_events_without_a_run_warn_and_the_writer_goes_on(repo: Path) -> None:
    gittrack.tensorboard.patch(pytorch=True)
    writer = torch_writer(repo / "runs" / "norun")
    with pytest.warns(GittrackWarning, match="no active run"):
        writer.add_scalar("loss", 1.0, 0)
    writer.close()


def test_required_writer_missing_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX.event_file_writer", None)
    with pytest.raises(UsageError, match="tensorboardx"):
        gittrack.tensorboard.patch(pytorch=False, tensorboardx=True)


def test_sync_without_any_writer_package_warns(
        repo: Path, fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX.event_file_writer", None)
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.warns(GittrackWarning, match="not be recorded"):
        run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    run.finish()
    assert not gittrack.tensorboard.patched()


def test_histogram_is_a_gittrack_histogram(repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    writer = torch_writer(repo / "runs" / "h")
    values = np.arange(100, dtype=float)
    writer.add_histogram("h", values, 0, bins=10)
    writer.close()
    run.finish()
    stored = gittrack.Api(".").run(run.id).summary["h"]
    hist = Histogram.from_bins(stored["values"], stored["bins"])
    expected, edges = np.histogram(values, bins=10)
    assert hist.counts == [float(c) for c in expected]
    assert hist.edges == pytest.approx(list(edges))


def test_hparams_become_config_and_their_metrics_are_recorded(
        repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    writer = torch_writer(repo / "runs" / "hp")
    writer.add_scalar("loss", 0.5, 0)
    writer.add_hparams({"lr": 0.1, "bsize": 4}, {"hparam/accuracy": 0.9}, run_name="trial")
    writer.close()
    run.finish()
    view = gittrack.Api(".").run(run.id)
    assert view.summary["loss"] == 0.5
    assert view.summary["trial/hparam/accuracy"] == pytest.approx(0.9)
    assert view.config == {"lr": 0.1, "bsize": 4}


def test_the_module_is_reachable_from_gittrack() -> None:
    assert gittrack.tensorboard.patch is gittrack.tensorboard.__dict__["patch"]
    assert callable(gittrack.tensorboard.unpatch)


@pytest.mark.parametrize("make_writer", WRITERS)
def test_without_global_step_every_value_is_kept(
        repo: Path, fast_settings: dict[str, object], make_writer: Any) -> None:
    run = gittrack.init(sync_tensorboard=True, settings=fast_settings)
    writer = make_writer(repo / "runs" / "nostep")
    for i in range(5):
        writer.add_scalar("loss", float(i))
    writer.close()
    run.finish()
    assert [r["loss"] for r in history(run.id)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_wandb_spellings_are_accepted(repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(settings=fast_settings)
    gittrack.tensorboard.patch(root_logdir="", pytorch=False, tensorboard_x=True, save=False)
    writer = tbx_writer(repo / "runs" / "w")
    writer.add_scalar("loss", 0.5, 2)
    writer.close()
    other = torch_writer(repo / "runs" / "t")
    other.add_scalar("other", 1.0, 3)  # not patched: pytorch=False
    other.close()
    run.finish()
    assert gittrack.Api(".").run(run.id).summary == {"loss": 0.5}


CLEANRL_SCRIPT = '''
import argparse, time
import numpy as np
import gittrack
from torch.utils.tensorboard import SummaryWriter

parser = argparse.ArgumentParser()
parser.add_argument("--total-timesteps", type=int, default=640)
parser.add_argument("--learning-rate", type=float, default=2.5e-4)
args = parser.parse_args()
run_name = f"CartPole-v1__ppo__1__{int(time.time())}"
run = gittrack.init(project="cleanRL", config=vars(args), name=run_name,
                    sync_tensorboard=True, save_code=True)
print(run.id, flush=True)
writer = SummaryWriter(f"runs/{run_name}")
writer.add_text("hyperparameters", "|param|value|\\n|-|-|\\n%s" % (
    "\\n".join([f"|{key}|{value}|" for key, value in vars(args).items()])))
for global_step in range(0, args.total_timesteps, 64):
    writer.add_scalar("charts/episodic_return", global_step / 64, global_step)
    writer.add_scalar("charts/SPS", 1000 + global_step, global_step)
    writer.add_scalar("losses/approx_kl", np.float32(0.01), global_step)
# no writer.close(), no run.finish(): the process just ends
'''


def test_a_cleanrl_script_in_its_own_process_records_every_metric(repo: Path) -> None:
    import subprocess
    import sys

    (repo / "ppo.py").write_text(CLEANRL_SCRIPT)
    proc = subprocess.run([sys.executable, "ppo.py"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    view = gittrack.Api(".").run(proc.stdout.split()[0])
    assert view.state == "finished"
    rows = history(view.id)
    assert [r["_step"] for r in rows] == list(range(0, 640, 64))
    assert [r["charts/episodic_return"] for r in rows] == [float(i) for i in range(10)]
    assert [r["charts/SPS"] for r in rows] == [1000.0 + s for s in range(0, 640, 64)]
    assert all(r["losses/approx_kl"] == pytest.approx(0.01) for r in rows)
    assert rows[0]["hyperparameters"].startswith("|param|value|")
    assert view.config == {"total_timesteps": 640, "learning_rate": 2.5e-4}


def test_the_patch_a_run_made_ends_with_it_and_a_users_patch_stays(
        repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(project="p", sync_tensorboard=True, settings=fast_settings)
    assert gittrack.tensorboard.patched()
    run.finish()
    assert not gittrack.tensorboard.patched()
    writer = torch_writer(repo / "runs" / "after")  # no run, no patch: no warning (an error here)
    writer.add_scalar("loss", 1.0, 0)
    writer.close()

    gittrack.tensorboard.patch()  # the user's own: a run does not undo it
    gittrack.init(project="p", sync_tensorboard=True, settings=fast_settings).finish()
    assert gittrack.tensorboard.patched()
