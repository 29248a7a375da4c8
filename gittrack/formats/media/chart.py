"""Charts: a data table plus a Vega-Lite v5 specification (``gittrack.plot``), and plotly
figures kept as their JSON.

A chart is stored as its table's Parquet bytes (the ``table`` kind's form) with the
specification in its index row's ``meta["spec"]``; the specification names its data
``{"name": "table"}``, so any Vega-Lite renderer redraws it once given the table's rows.
A plotly figure is stored as ``fig.to_json()`` (kind "plotly", format "json").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats.media.base import Encoded, Media, Payload, Stored, register
from gittrack.formats.media.table import Table, encode_table, read_table

KIND: Final = "chart"
PLOTLY: Final = "plotly"
SCHEMA: Final = "https://vega.github.io/schema/vega-lite/v5.json"
DATA: Final = {"name": "table"}
"""The named data source of every specification: the chart's table."""


class Chart(Media):
    """A chart to log: its data ``table`` (a ``gittrack.Table``) and its Vega-Lite
    specification ``spec`` (a dict). Made by ``gittrack.plot`` functions, not directly."""

    kind = KIND

    def __init__(self, table: Table, spec: Mapping[str, Any]) -> None:
        self.table = table
        self.spec = dict(spec)

    @property
    def title(self) -> str | None:
        title = self.spec.get("title")
        return title if isinstance(title, str) else None

    def __repr__(self) -> str:
        mark = self.spec.get("mark")
        mark = mark.get("type") if isinstance(mark, dict) else mark
        return f"Chart(mark={mark!r}, title={self.title!r}, rows={len(self.table.data)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chart) and (self.table, self.spec) == (other.table, other.spec)

    __hash__ = None  # type: ignore[assignment]

    def payloads(self, key: str) -> list[Payload]:
        try:
            spec = json.loads(json.dumps(self.spec, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"cannot log {key!r}: the chart's specification is not "
                                    f"JSON: {exc}") from None
        *items, table = self.table.payloads(key)
        return [*items, Payload(KIND, table.raw, {**table.spec, "spec": spec})]


def encode_chart(payload: Payload) -> Encoded:
    table = encode_table(payload)
    return Encoded(table.data, table.format, None, None, table.length, None,
                   {**table.meta, "spec": payload.spec["spec"]})


def decode_chart(data: bytes, stored: Stored) -> Chart:
    spec = stored.meta.get("spec")
    if not isinstance(spec, dict):
        raise FormatError("cannot read a chart: its index row holds no specification")
    return Chart(read_table(data, stored.meta, what="chart table"), spec)


class Plotly(Media):
    """A plotly figure, kept as its JSON specification (``fig.to_json()``): ``log()`` turns a
    plotly figure into one. Read back, ``spec`` is the figure as a dict and ``figure()``
    rebuilds it (plotly installed)."""

    kind = PLOTLY

    def __init__(self, figure: Any) -> None:
        self._figure = figure
        self._json: str | None = None

    @property
    def spec(self) -> dict[str, Any]:
        try:
            spec = json.loads(self._text("plotly"))
        except ValueError as exc:
            raise FormatError(f"cannot read a plotly figure: its JSON is damaged: {exc}"
                              ) from None
        if not isinstance(spec, dict):
            raise FormatError("cannot read a plotly figure: its JSON is not an object")
        return spec

    def figure(self) -> Any:
        """The figure as a ``plotly.graph_objects.Figure`` (plotly installed)."""
        import importlib

        plotly_io = importlib.import_module("plotly.io")  # untyped: Any
        try:
            return plotly_io.from_json(self._text("plotly"))
        except Exception as exc:  # plotly's validation of a figure it did not write
            raise FormatError(f"cannot read a plotly figure: {type(exc).__name__}: "
                              f"{exc}"[:500]) from None

    def _text(self, key: str) -> str:
        if self._json is not None:
            return self._json
        figure = self._figure
        try:
            if isinstance(figure, Mapping):
                text = json.dumps(figure)
            elif is_plotly(figure):
                text = figure.to_json()
            else:
                raise InvalidValueError(
                    f"cannot log {key!r}: Plotly expects a plotly figure or its dict, got "
                    f"{type(figure).__name__}")
        except InvalidValueError:
            raise
        except Exception as exc:  # plotly's validation and JSON errors
            raise InvalidValueError(f"cannot log {key!r}: the plotly figure cannot be written "
                                    f"as JSON: {type(exc).__name__}: {exc}") from None
        if not isinstance(text, str) or not text.startswith("{"):
            raise InvalidValueError(f"cannot log {key!r}: the plotly figure's JSON is not an "
                                    f"object")
        self._json = text
        return text

    def __repr__(self) -> str:
        return "Plotly(...)"

    def payloads(self, key: str) -> list[Payload]:
        return [Payload(PLOTLY, self._text(key).encode(), {})]


def is_plotly(value: Any) -> bool:
    """A plotly figure (``plotly.graph_objects.Figure``), recognised without importing
    plotly: what ``log()`` turns into ``Plotly(value)``."""
    module = type(value).__module__ or ""
    return module.split(".")[0] == "plotly" and callable(getattr(value, "to_json", None)) \
        and hasattr(value, "layout")


def encode_plotly(payload: Payload) -> Encoded:
    data = bytes(payload.raw)
    try:
        layout = json.loads(data).get("layout") or {}
    except (ValueError, AttributeError):  # kept all the same; its size is just unknown
        layout = {}
    width = layout.get("width") if isinstance(layout, dict) else None
    height = layout.get("height") if isinstance(layout, dict) else None
    return Encoded(data, "json", width if isinstance(width, int) else None,
                   height if isinstance(height, int) else None)


def decode_plotly(data: bytes, stored: Stored) -> Plotly:
    del stored
    plot = Plotly(None)
    try:
        plot._json = data.decode()
    except UnicodeDecodeError:
        raise FormatError("cannot read a plotly figure: its JSON is not UTF-8") from None
    return plot


register(KIND, encode_chart, decode_chart)
register(PLOTLY, encode_plotly, decode_plotly)

__all__ = ["Chart", "Plotly", "decode_chart", "decode_plotly", "encode_chart",
           "encode_plotly", "is_plotly"]
