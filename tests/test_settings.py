"""Settings of a run: the system-metrics settings, under gittrack's and W&B's names."""

from __future__ import annotations

from typing import Any

import pytest

from gittrack.errors import InvalidSettingError
from gittrack.settings import Settings, system_metrics_enabled


def test_system_metrics_are_on_every_15_seconds_by_default() -> None:
    settings = Settings()
    assert settings.system_metrics is True and settings.system_interval == 15.0
    assert system_metrics_enabled(settings, {})


@pytest.mark.parametrize("given, on, interval", [
    ({"system_metrics": False}, False, 15.0),
    ({"system_interval": 2}, True, 2.0),
    ({"x_disable_stats": True}, False, 15.0),
    ({"x_disable_stats": False}, True, 15.0),
    ({"_disable_stats": True}, False, 15.0),
    ({"x_stats_sampling_interval": 0.5}, True, 0.5),
    ({"_stats_sample_rate_seconds": 30}, True, 30.0),
    ({"system_metrics": False, "x_disable_stats": False}, False, 15.0),  # either turns it off
])
def test_gittrack_and_wandb_names(given: dict[str, Any], on: bool, interval: float) -> None:
    settings = Settings.from_any(given)
    assert settings.system_metrics is on and settings.system_interval == interval


def test_wandb_names_as_keyword_arguments() -> None:
    settings = Settings(x_disable_stats=True, x_stats_sampling_interval=1.5)
    assert settings.system_metrics is False and settings.system_interval == 1.5
    assert "x_disable_stats" not in repr(settings)
    older = Settings(_disable_stats=True, _stats_sample_rate_seconds=0.5)
    assert older.system_metrics is False and older.system_interval == 0.5


@pytest.mark.parametrize("given, named", [
    ({"system_metrics": "no"}, "system_metrics"),
    ({"system_metrics": 0}, "system_metrics"),
    ({"system_interval": 0}, "system_interval"),
    ({"system_interval": -1.0}, "system_interval"),
    ({"system_interval": float("inf")}, "system_interval"),
    ({"system_interval": "15"}, "system_interval"),
    ({"system_interval": True}, "system_interval"),
    ({"x_disable_stats": "yes"}, "x_disable_stats"),
    ({"_disable_stats": 1}, "_disable_stats"),
    ({"_stats_sample_rate_seconds": 0}, "_stats_sample_rate_seconds"),
    ({"x_stats_sampling_interval": float("nan")}, "x_stats_sampling_interval"),
    ({"x_stats_sampling_interval": 0.001}, "x_stats_sampling_interval"),
])
def test_bad_values_are_refused_naming_the_setting(given: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidSettingError, match=named):
        Settings.from_any(given)


@pytest.mark.parametrize("value, on", [
    ("0", False), ("false", False), ("OFF", False), ("no", False),
    ("1", True), ("true", True), ("", True), (" yes ", True),
])
def test_the_environment_variable(value: str, on: bool) -> None:
    assert system_metrics_enabled(Settings(), {"GITTRACK_SYSTEM_METRICS": value}) is on
    assert system_metrics_enabled(Settings(system_metrics=False),
                                  {"GITTRACK_SYSTEM_METRICS": value}) is False


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(InvalidSettingError, match="GITTRACK_SYSTEM_METRICS"):
        system_metrics_enabled(Settings(), {"GITTRACK_SYSTEM_METRICS": "sometimes"})
