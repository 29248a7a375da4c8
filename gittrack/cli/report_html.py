"""`gittrack report --format html`: one self-contained HTML file, its charts Vega-Lite
specifications rendered to inline SVG here by ``vl-convert-python`` (no script, no CDN, no
image host: the file opens offline and in a CI artifact viewer alike)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from gittrack.cli.compare_cmd import head_rows, row_cells, sections
from gittrack.cli.diff_cmd import no_bidi
from gittrack.cli.report_cmd import Markup, intro, listing, sides
from gittrack.errors import UsageError
from gittrack.formats.display import is_number
from gittrack.runs.compare import Comparison, Row
from gittrack.runs.diff import relative
from gittrack.runs.report import MARKER, Report
from gittrack.runs.view import RunView

MAX_CURVES = 6
"""Metric curves drawn: the metrics with a recorded goal first."""
MAX_POINTS = 500
"""Points per curve: a longer history is sampled evenly (both ends kept)."""
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
"""An identifier in each specification: vl-convert bundles the schema, nothing is fetched."""
_VERDICT_COLOURS = {"good": "#1a7f37", "bad": "#cf222e", "neutral": "#8c959f"}

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#1f2328}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #d0d7de;
padding:.3em .6em;text-align:left;vertical-align:top}code{font-size:90%}
.good{color:#1a7f37}.bad{color:#cf222e}.neutral{color:#656d76}
figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-weight:600}
"""


def render_html(report: Report) -> str:
    """The report as one HTML document (the marker first, as the markdown's)."""
    title = f"gittrack report: {report.head} against {report.base}"
    body = [f"<h1>{_e(title)}</h1>", _intro(report)]
    if report.comparison is not None:
        body += [_charts(report), *_tables(report.comparison)]
    for heading, views in sides(report):
        header, rows = listing(report, views)
        cells = [[f"{r[0]} ({r[1]})" + (" ★" if r[2] else ""), *r[3:]] for r in rows]
        body.append(f"<h2>{_e(heading)}</h2>" + _table(header, cells))
    return (f"{MARKER}\n<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _e(text: str) -> str:
    return html.escape(no_bidi(text), quote=True)


def _intro(report: Report) -> str:
    """The markdown intro's lines, marked up as HTML (names escaped in ``<code>``)."""
    markup = Markup(code=lambda t: f"<code>{_e(t)}</code>", strong="<strong>{}</strong>".format,
                    em="<em>{}</em>".format, item="<p>{}</p>".format, para="<p>{}</p>".format)
    return "\n".join(intro(report, markup))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           classes: Sequence[Sequence[str]] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    lines = []
    for i, row in enumerate(rows):
        marks = classes[i] if i < len(classes) else ()
        tds = "".join(f"<td class=\"{marks[j]}\">{_e(c)}</td>" if j < len(marks) and marks[j]
                      else f"<td>{_e(c)}</td>" for j, c in enumerate(row))
        lines.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _tables(c: Comparison) -> list[str]:
    head = head_rows(c.runs)
    out = ["<h2>Runs compared</h2>" + _table(["", *head[0][1:]], head[1:])]
    for title, rows in sections(c):
        if rows:
            cells = [[r.key + (f" ({r.goal})" if r.goal else ""),
                      *row_cells(r, len(c.runs), styled=False, spark=True)] for r in rows]
            classes = [["", "", *(v or "" for v in r.verdicts)] for r in rows]
            out.append(f"<h2>{_e(title.capitalize())}</h2>"
                       + _table(["key", *(s.name for s in c.runs)], cells, classes))
    return out


# -- charts ---------------------------------------------------------------------------------


def _charts(report: Report) -> str:
    comparison, base, head = report.comparison, report.best_base, report.best_head
    assert comparison is not None and base is not None and head is not None
    figures = [(f"{row.key}" + (f" ({row.goal})" if row.goal else ""),
                curve_spec(row.key, {f"base: {base.name}": base, f"head: {head.name}": head}))
               for row in _curve_rows(comparison)]
    bars = deltas_spec(comparison.summary)
    if bars is not None:
        figures.append(("summary: head against base", bars))
    if not figures:
        return ""
    return "<h2>Charts</h2>\n" + "\n".join(
        f"<figure><figcaption>{_e(caption)}</figcaption>{no_bidi(to_svg(spec))}</figure>"
        for caption, spec in figures)


def _curve_rows(c: Comparison) -> list[Row]:
    ranked = sorted(c.metrics, key=lambda r: r.goal is None)  # stable: goals first
    return ranked[:MAX_CURVES]


def curve_spec(key: str, runs: Mapping[str, RunView]) -> dict[str, Any]:
    """A Vega-Lite line chart of history ``key`` against ``_step``, one line per run."""
    values: list[dict[str, Any]] = []
    for label, view in runs.items():
        history = view.history_arrow()
        if key not in history.column_names:
            continue
        steps = history.column("_step").to_pylist()
        points = [(s, v) for s, v in zip(steps, history.column(key).to_pylist(), strict=True)
                  if is_number(v) and v == v and abs(float(v)) != float("inf")]
        values += [{"step": s, "value": float(v), "run": label} for s, v in _sample(points)]
    return {"$schema": SCHEMA, "width": 320, "height": 180, "data": {"values": values},
            "mark": {"type": "line", "point": len(values) <= 40},
            "encoding": {"x": {"field": "step", "type": "quantitative", "title": "step"},
                         "y": {"field": "value", "type": "quantitative", "title": key,
                               "scale": {"zero": False}},
                         "color": {"field": "run", "type": "nominal", "title": None,
                                   "legend": {"orient": "bottom"}}}}


def _sample(points: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    if len(points) <= MAX_POINTS:
        return points
    last = len(points) - 1
    return [points[round(i * last / (MAX_POINTS - 1))] for i in range(MAX_POINTS)]


def deltas_spec(rows: Sequence[Row]) -> dict[str, Any] | None:
    """A Vega-Lite bar chart of each numeric summary key's relative change (head against
    base), coloured good/bad/neutral by the recorded goal; ``None`` when there is none."""
    values = []
    for row in rows:
        rel, verdict = relative(row.values[0], row.values[1]), row.verdicts[0]
        if rel is not None and verdict is not None and verdict != "same":
            values.append({"key": row.key, "change": rel, "verdict": verdict})
    if not values:
        return None
    colours = {k: v for k, v in _VERDICT_COLOURS.items() if any(x["verdict"] == k for x in values)}
    return {"$schema": SCHEMA, "width": 320, "data": {"values": values}, "mark": "bar",
            "encoding": {"y": {"field": "key", "type": "nominal", "sort": None, "title": None},
                         "x": {"field": "change", "type": "quantitative", "title": "change",
                               "axis": {"format": "+.0%"}},
                         "color": {"field": "verdict", "type": "nominal", "title": None,
                                   "scale": {"domain": list(colours),
                                             "range": list(colours.values())},
                                   "legend": {"orient": "bottom"}}}}


def to_svg(spec: Mapping[str, Any]) -> str:
    """``spec`` rendered to SVG by vl-convert (imported here: the ``report`` extra)."""
    try:
        import vl_convert
    except ImportError:
        raise UsageError("the HTML report needs vl-convert-python: "
                         "pip install 'gittrack[report]'") from None
    svg: str = vl_convert.vegalite_to_svg(dict(spec))
    return svg
