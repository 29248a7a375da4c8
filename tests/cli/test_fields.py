from __future__ import annotations

import datetime as dt

from gittrack.cli.fields import cell, local_time


def test_local_time() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    local = moment.astimezone()
    assert local_time("2026-01-02T03:04:05.000000Z") == local.strftime("%Y-%m-%d %H:%M")
    assert local_time("2026-01-02T03:04:05.000000Z", seconds=True) == local.strftime(
        "%Y-%m-%d %H:%M:%S")
    assert local_time(None) == "-"
    assert local_time("yesterday") == "yesterday"


def test_cells() -> None:
    assert cell(None) == ("-", "dim")
    assert cell(0.1234567891) == ("0.123457", None)
    assert cell(True) == ("true", None)
