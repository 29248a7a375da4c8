"""Plotly figures kept as their JSON; charts read back from their stored form."""

from __future__ import annotations

import json

import pytest

from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media.base import Stored, decode
from gittrack.formats.media.chart import Chart, Plotly, is_plotly
from gittrack.formats.media.table import Table
from tests.helpers.stored_media import round_trip, stored


def table() -> Table:
    return Table(columns=["x"], data=[[1], [2]])


def test_plotly_figures_keep_their_json() -> None:
    go = pytest.importorskip("plotly.graph_objects")
    figure = go.Figure(go.Bar(x=["a", "b"], y=[1, 3]), layout={"width": 300, "height": 200})
    assert is_plotly(figure) and not is_plotly({"data": []}) and not is_plotly(table())
    item, row = stored(Plotly(figure).payloads("fig")[0])
    assert row.kind == "plotly" and item.format == "json"
    assert (item.width, item.height) == (300, 200)
    assert json.loads(item.data) == json.loads(figure.to_json())
    back = round_trip(Plotly(figure))
    assert back.spec["data"][0]["y"] == [1, 3]
    assert back.figure().data[0].type == "bar"


def test_plotly_refuses_what_is_not_a_figure() -> None:
    with pytest.raises(InvalidValueError, match=r"'fig'.*plotly figure"):
        Plotly(object()).payloads("fig")


def test_a_chart_row_without_a_specification_is_a_format_error() -> None:
    item, _ = stored(Chart(table(), {"mark": "point"}).payloads("c")[-1])
    row = Stored("chart", "parquet", None, None, 2, None, {"columns": ["x"]})
    with pytest.raises(FormatError, match="specification"):
        decode(item.data, row)


def test_a_plotly_blob_that_is_not_utf8_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="UTF-8"):
        decode(b"\xff\xfe", Stored("plotly", "json", None, None, None, None, {}))


def test_a_damaged_plotly_blob_is_a_format_error() -> None:
    row = Stored("plotly", "json", None, None, None, None, {})
    with pytest.raises(FormatError, match="damaged"):
        _ = decode(b"{not json", row).spec
    with pytest.raises(FormatError, match="plotly figure"):
        decode(b'{"data": [{"type": "no-such-trace"}]}', row).figure()
