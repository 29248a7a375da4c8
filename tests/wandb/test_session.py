"""``gittrack.wandb.init``: every keyword of the installed wandb's ``init`` is accepted."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import pytest

import gittrack
import gittrack.wandb as wandb
from gittrack.errors import GittrackWarning, UsageError
from tests.helpers.wandb import FAST_WANDB, start


def _values(tmp_path: Path) -> dict[str, Any]:
    """A value a script would pass for each keyword W&B's init takes."""
    return {
        "entity": "me", "project": "proj", "dir": str(tmp_path / "wandb-dir"),
        "id": "abc123", "name": "first", "notes": "a note", "tags": ["a", "b"],
        "config": {"lr": 0.1, "bs": 8}, "config_exclude_keys": ["bs"],
        "config_include_keys": ["lr"], "allow_val_change": True, "group": "g",
        "job_type": "train", "mode": "offline", "force": True, "reinit": "finish_previous",
        "resume": "allow", "resume_from": "abc?_step=3", "fork_from": "abc?_step=3",
        "save_code": False, "tensorboard": False, "sync_tensorboard": False,
        "monitor_gym": True, "settings": dict(FAST_WANDB), "anonymous": "never",
    }


def test_every_keyword_of_the_installed_wandb_init_is_accepted(repo: Path,
                                                               tmp_path: Path) -> None:
    real = pytest.importorskip("wandb")
    values = _values(tmp_path)
    names = [p for p in inspect.signature(real.init).parameters if p != "self"]
    assert {"entity", "dir", "mode", "anonymous", "save_code", "sync_tensorboard",
            "monitor_gym", "reinit"} <= set(names)
    for name in names:
        given = {name: values.get(name, True)}
        if name != "settings":
            given["settings"] = FAST_WANDB
        if name == "id":
            given["id"] = f"id-{len(name)}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GittrackWarning)  # the one warning, tested below
            run = wandb.init(**given)
        assert run.id, name
        run.finish()


def test_all_keywords_at_once_map_or_record(repo: Path, tmp_path: Path) -> None:
    values = _values(tmp_path)
    del values["config_exclude_keys"]  # W&B takes one of the two
    with pytest.warns(GittrackWarning, match="anonymous, monitor_gym, resume_from, fork_from, "
                                             "force accepted and ignored") as caught:
        run = wandb.init(**values)
    assert len([w for w in caught if "accepted and ignored" in str(w.message)]) == 1
    run.finish()
    view = gittrack.Api().run("abc123")
    assert (view.name, view.project, view.group, view.info.job_type, view.notes) == (
        "first", "proj", "g", "train", "a note")
    assert list(view.tags) == ["a", "b"]
    assert view.config == {"lr": 0.1}
    assert view.metadata["wandb"] == {
        "entity": "me", "mode": "offline", "dir": str(tmp_path / "wandb-dir"),
        "anonymous": "never", "monitor_gym": True, "resume_from": "abc?_step=3",
        "fork_from": "abc?_step=3", "sync_tensorboard": False, "tensorboard": False,
        "force": True}
    assert run.dir.startswith(str(tmp_path / "wandb-dir"))


def test_a_newer_wandb_keyword_is_accepted_with_the_warning(repo: Path) -> None:
    with pytest.warns(GittrackWarning, match="some_future_keyword accepted and ignored"):
        run = start(some_future_keyword=3)
    run.finish()


def test_the_real_wandb_settings_object_is_taken(repo: Path) -> None:
    real = pytest.importorskip("wandb")
    run = wandb.init(settings=real.Settings(console="off", x_disable_stats=True, quiet=True))
    assert run.gittrack_run._settings.console == "off"
    assert run.gittrack_run._settings.system_metrics is False
    run.finish()
    run = wandb.init(settings=wandb.Settings(console="off", silent=True, anything="kept"))
    assert run.gittrack_run._settings.quiet is True
    run.finish()


def test_config_from_yaml_file_and_key_filters(repo: Path) -> None:
    (repo / "config.yaml").write_text(
        "wandb_version: 1\nlr:\n  desc: learning rate\n  value: 0.01\nepochs: 3\n")
    run = start(config="config.yaml")
    assert dict(run.config) == {"lr": 0.01, "epochs": 3}
    run.finish()
    run = start(config={"a": 1, "b": 2}, config_exclude_keys=["a"])
    assert dict(run.config) == {"b": 2}
    run.finish()
    with pytest.raises(UsageError, match="not both"):
        start(config={"a": 1}, config_exclude_keys=["a"], config_include_keys=["a"])


def test_environment_defaults_as_wandb_reads_them(repo: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "envproj")
    monkeypatch.setenv("WANDB_ENTITY", "team")
    monkeypatch.setenv("WANDB_TAGS", "x,y")
    run = start()
    assert (run.project, run.entity, run.tags) == ("envproj", "team", ("x", "y"))
    run.finish()


def test_reinit_modes(repo: Path) -> None:
    first = start()
    assert start() is first  # W&B's default in a script: the run already active
    both = start(reinit="create_new")
    assert both is not first and wandb.run is both
    third = start(reinit=True)  # finish_previous
    assert first.gittrack_run.state == "finished" and both.gittrack_run.state == "finished"
    assert wandb.run is third
    wandb.finish()
    assert wandb.run is None


def test_resume_an_existing_run_by_id(repo: Path) -> None:
    run = start(id="myrun", resume="allow")
    assert not run.resumed  # allow, and no such run: a new one
    run.log({"loss": 1.0})
    run.finish()
    again = start(id="myrun", resume="must")
    assert again.resumed and again.id == "myrun"
    again.log({"loss": 0.5})
    again.finish()
    assert list(gittrack.Api().run("myrun").history()["loss"]) == [1.0, 0.5]


def test_sync_tensorboard_is_recorded(repo: Path) -> None:
    with warnings.catch_warnings():  # a warning if gittrack.tensorboard is missing
        warnings.simplefilter("ignore", GittrackWarning)
        run = start(sync_tensorboard=True)
    run.finish()
    assert gittrack.Api().run(run.id).metadata["wandb"]["sync_tensorboard"] is True


def test_online_mode_warns_that_nothing_is_sent(repo: Path) -> None:
    from gittrack.api import session

    session._online_warned = False
    with pytest.warns(GittrackWarning, match="never sends anything"):
        run = start(mode="online")
    run.log({"x": 1})
    run.finish()
    assert gittrack.Api().run(run.id).summary["x"] == 1


def test_module_level_names_before_init(repo: Path) -> None:
    assert wandb.run is None
    assert dict(wandb.config) == {}
    with pytest.raises(gittrack.NoActiveRunError, match=r"wandb.log\(\) called before"):
        wandb.log({"x": 1})
    assert wandb.login(key="abc", relogin=True) is True
    assert wandb.__version__ >= "0.12"
