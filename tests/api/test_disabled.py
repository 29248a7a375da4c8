"""``init(mode="disabled")`` and ``GITTRACK_MODE=disabled``: a run that records nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack
from gittrack.api import session
from gittrack.api.disabled import AttrDict, DisabledRun, disabled_by
from tests.helpers.wandb import state_of


@pytest.fixture(autouse=True)
def _reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITTRACK_MODE", raising=False)
    monkeypatch.setattr(session, "_disabled", None)


def test_native_init_takes_mode_and_gittrack_mode(repo: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_of(repo)
    run = gittrack.init(mode="disabled", config={"a": 1})
    assert isinstance(run, DisabledRun)
    assert run.config.a == 1 and gittrack.run is run and run.id and run.name
    gittrack.log({"x": 1})
    gittrack.define_metric("x", summary="max")
    run.log_code()  # any other Run method: a no-op
    run.finish()
    gittrack.finish()
    assert gittrack.run is None
    monkeypatch.setenv("GITTRACK_MODE", "disabled")
    with gittrack.init() as other:
        other.log({"y": 2})
    gittrack.finish()
    assert state_of(repo) == before
    with pytest.raises(gittrack.InvalidSettingError, match="mode must be one of"):
        gittrack.init(mode="sideways")


def test_disabled_by_reads_the_argument_then_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert disabled_by("disabled") and not disabled_by("offline") and not disabled_by(None)
    monkeypatch.setenv("GITTRACK_MODE", "disabled")
    assert disabled_by(None) and not disabled_by("online")


def test_attr_dict_has_w_and_b_config_methods() -> None:
    config = AttrDict()
    config.update({"lr": 0.1}, allow_val_change=True)
    config.bs = 4
    config.setdefaults({"bs": 8, "epochs": 2})
    assert config == {"lr": 0.1, "bs": 4, "epochs": 2} and config.lr == 0.1
    assert config._json_dict == dict(config)
    with pytest.raises(AttributeError):
        _ = config.missing
