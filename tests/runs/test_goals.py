"""Goals recorded by runs and the verdict on a change."""

from __future__ import annotations

from gittrack.runs.goals import _goal_of, goal_for, verdict


def test_verdict_follows_the_goal() -> None:
    assert verdict(0.3, "minimize") == "bad" and verdict(-0.3, "minimize") == "good"
    assert verdict(0.1, "maximize") == "good" and verdict(-0.1, "maximize") == "bad"
    assert verdict(1.0, None) == "neutral"
    assert verdict(0, "maximize") == "same"
    assert verdict(None, "maximize") is None and verdict(float("nan"), None) is None


def test_goal_from_goal_or_a_lone_min_or_max_summary() -> None:
    assert _goal_of({"goal": "maximize", "summary": ["min"]}) == "maximize"
    assert _goal_of({"summary": ["min"]}) == "minimize"
    assert _goal_of({"summary": ["max", "last"]}) == "maximize"
    assert _goal_of({"summary": ["min", "max"]}) is None
    assert _goal_of({"summary": ["last"]}) is None


def test_goal_for_globs_and_aggregates() -> None:
    recorded = {"loss": "minimize", "val/*": "maximize"}
    assert goal_for("loss.min", recorded) == "minimize"
    assert goal_for("val/acc", recorded) == "maximize"
    assert goal_for("lr", recorded) is None
