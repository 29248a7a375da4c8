from __future__ import annotations

import datetime as dt

from gittrack.cli.fields import cell, flatten, is_number, local_time


def test_flatten_nested_dicts_but_not_histograms_lists_or_empty_dicts() -> None:
    hist = {"_type": "histogram", "values": [1], "bins": [0, 1]}
    data = {"a": {"b": {"c": 1}, "d": [1, {"e": 2}]}, "h": hist, "empty": {}, "x/y": 2}
    assert flatten(data) == {"a.b.c": 1, "a.d": [1, {"e": 2}], "h": hist, "empty": {},
                             "x/y": 2}


def test_local_time() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    local = moment.astimezone()
    assert local_time("2026-01-02T03:04:05.000000Z") == local.strftime("%Y-%m-%d %H:%M")
    assert local_time("2026-01-02T03:04:05.000000Z", seconds=True) == local.strftime(
        "%Y-%m-%d %H:%M:%S")
    assert local_time(None) == "-"
    assert local_time("yesterday") == "yesterday"


def test_cells_and_numbers() -> None:
    assert cell(None) == ("-", "dim")
    assert cell(0.1234567891) == ("0.123457", None)
    assert cell(True) == ("true", None)
    assert is_number(1) and is_number(1.5) and not is_number(True) and not is_number("1")
