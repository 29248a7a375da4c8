from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gittrack.errors import InvalidSettingError
from gittrack.runs.query import matches, parse_cli_filter


@dataclasses.dataclass
class FakeRun:
    config: dict[str, Any]
    summary: dict[str, Any]
    metadata: dict[str, Any]


RUN = FakeRun(
    config={"lr": 0.01, "model": {"depth": 4}, "a.b": 1, "opt": "adam"},
    summary={"acc": 0.93, "val/loss": 0.2, "best": {"min": 0.1}},
    metadata={"state": "finished", "tags": ["baseline", "v2"], "name": "calm-sea-1",
              "group": None, "id": "01abc"},
)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, True),
        ({"state": "finished"}, True),
        ({"state": "crashed"}, False),
        ({"tags": "baseline"}, True),
        ({"tags": "other"}, False),
        ({"tags": ["baseline", "v2"]}, True),
        ({"config.lr": 0.01}, True),
        ({"config.lr": {"$lt": 0.1}}, True),
        ({"config.lr": {"$gt": 0.1}}, False),
        ({"config.lr": {"$gte": 0.01, "$lte": 0.01}}, True),
        ({"config.model.depth": 4}, True),
        ({"config.a.b": 1}, True),  # keys with dots win over nesting
        ({"config.missing": {"$exists": False}}, True),
        ({"config.lr": {"$exists": True}}, True),
        ({"group": {"$exists": False}}, True),
        ({"config.opt": {"$in": ["sgd", "adam"]}}, True),
        ({"config.opt": {"$nin": ["sgd", "adam"]}}, False),
        ({"config.opt": {"$ne": "sgd"}}, True),
        ({"config.opt": {"$eq": "sgd"}}, False),
        ({"name": {"$regex": "^calm"}}, True),
        ({"name": {"$regex": "^wild"}}, False),
        ({"summary.acc": {"$gte": 0.9}}, True),
        ({"summary.val/loss": {"$lt": 0.5}}, True),
        ({"summary.best.min": 0.1}, True),
        ({"summary_metrics.acc": 0.93}, True),
        ({"metadata.id": "01abc"}, True),
        ({"config.opt": {"$gt": 3}}, False),  # incomparable types are no match, not an error
        ({"config.missing": {"$lt": 3}}, False),
        ({"$or": [{"state": "crashed"}, {"tags": "v2"}]}, True),
        ({"$or": [{"state": "crashed"}, {"tags": "v3"}]}, False),
        ({"$and": [{"state": "finished"}, {"config.lr": 0.01}]}, True),
        ({"$and": [{"state": "finished"}, {"config.lr": 1}]}, False),
        ({"config.model": {"depth": 4}}, True),  # a dict without operators is compared whole
    ],
)
def test_matches(filters: dict[str, Any], expected: bool) -> None:
    assert matches(RUN, filters) is expected


def test_unknown_operator_names_it() -> None:
    with pytest.raises(InvalidSettingError, match=r"\$near.*config.lr"):
        matches(RUN, {"config.lr": {"$near": 1}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lr=0.01", ("lr", 0.01)),
        ("config.opt=adam", ("config.opt", "adam")),
        ("state=finished", ("state", "finished")),
        ("flag=true", ("flag", True)),
        ("n=3", ("n", 3)),
        ("name=", ("name", "")),
        ("eq=a=b", ("eq", "a=b")),
    ],
)
def test_parse_cli_filter(text: str, expected: tuple[str, Any]) -> None:
    assert parse_cli_filter(text) == expected


@pytest.mark.parametrize("text", ["noequals", "=value"])
def test_parse_cli_filter_refuses(text: str) -> None:
    with pytest.raises(InvalidSettingError, match="KEY=VALUE"):
        parse_cli_filter(text)
