"""Charts to log, named as ``wandb.plot``'s: each is its data table plus a Vega-Lite v5
specification, so that any tool (and gittrack's web UI) can redraw it::

    table = gittrack.Table(columns=["epoch", "loss"], data=[[1, 0.9], [2, 0.5]])
    run.log({"loss_curve": gittrack.plot.line(table, "epoch", "loss", title="Loss")})
    run.log({"pr": gittrack.plot.pr_curve(y_true, y_probas, labels=["cat", "dog"])})

Read back (``Api().run(...).media(key)``), a chart has ``.table`` and ``.spec``. Curves are
computed with numpy alone; ``vega(spec, table)`` logs a specification of your own.
W&B's ``split_table`` (where its UI shows the table) is accepted and has no effect here, as
is ``pr_curve``'s ``interp_size`` (the curve keeps its points: ``MAX_CURVE_POINTS``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from gittrack.errors import InvalidValueError
from gittrack.formats.media.chart import DATA, SCHEMA, Chart
from gittrack.formats.media.table import Table

if TYPE_CHECKING:
    import numpy as np

MAX_CURVE_POINTS: Final = 1000
"""The most points a PR or ROC curve keeps per class (evenly spaced among its thresholds,
both ends kept): a curve of 1,000,000 predictions is not a 1,000,000-row table."""

__all__ = ["Chart", "bar", "confusion_matrix", "histogram", "line", "line_series",
           "plot_table", "pr_curve", "roc_curve", "scatter", "vega"]


def line(table: Table, x: str, y: str, stroke: str | None = None,
         title: str | None = None, split_table: bool = False) -> Chart:
    """A line of column ``y`` against column ``x`` (one line per value of ``stroke``)."""
    _has(table, "line", x, y, stroke)
    encoding = {"x": _quantitative(x), "y": _quantitative(y)}
    if stroke is not None:
        encoding["color"] = _nominal(stroke)
    return Chart(table, _spec("line", encoding, title))


def line_series(xs: Sequence[Any], ys: Sequence[Sequence[Any]],
                keys: Sequence[str] | None = None, title: str | None = None,
                xname: str | None = None, split_table: bool = False) -> Chart:
    """Several lines: ``ys[i]`` against ``xs`` (shared) or ``xs[i]``, named ``keys[i]``
    (``key_0``, ``key_1``... by default). Its table: ``step``, ``lineKey``, ``lineVal``."""
    ys = [list(_values(series, "line_series ys")) for series in ys]
    shared = not xs or not _is_sequence(xs[0])
    xss = [list(_values(xs, "line_series xs"))] * len(ys) if shared \
        else [list(_values(x, "line_series xs")) for x in xs]
    keys = [f"key_{i}" for i in range(len(ys))] if keys is None else [str(k) for k in keys]
    if len(keys) != len(ys) or len(xss) != len(ys):
        raise InvalidValueError(f"line_series expects one key and one x series per y series; "
                                f"got {len(ys)} y series, {len(keys)} keys, {len(xss)} x series")
    table = Table(columns=["step", "lineKey", "lineVal"])
    for key, x_values, y_values in zip(keys, xss, ys, strict=True):
        if len(x_values) != len(y_values):
            raise InvalidValueError(f"line_series: the series {key!r} has {len(y_values)} y "
                                    f"values for {len(x_values)} x values")
        for x, y in zip(x_values, y_values, strict=True):
            table.add_data(x, key, y)
    encoding = {"x": {**_quantitative("step"), "title": xname or "x"},
                "y": {**_quantitative("lineVal"), "title": "y"},
                "color": {**_nominal("lineKey"), "title": "key"}}
    return Chart(table, _spec("line", encoding, title))


def scatter(table: Table, x: str, y: str, title: str | None = None,
            split_table: bool = False) -> Chart:
    """A point for each row: column ``y`` against column ``x``."""
    _has(table, "scatter", x, y)
    return Chart(table, _spec("point", {"x": _quantitative(x), "y": _quantitative(y)}, title))


def bar(table: Table, label: str, value: str, title: str | None = None,
        split_table: bool = False) -> Chart:
    """A horizontal bar per row: length ``value``, named by ``label``."""
    _has(table, "bar", label, value)
    encoding = {"y": {**_nominal(label), "sort": None}, "x": _quantitative(value)}
    return Chart(table, _spec("bar", encoding, title))


def histogram(table: Table, value: str, title: str | None = None,
              split_table: bool = False) -> Chart:
    """The distribution of column ``value`` in bins (Vega-Lite bins it when drawn)."""
    _has(table, "histogram", value)
    encoding = {"x": {**_quantitative(value), "bin": {"maxbins": 64}},
                "y": {"aggregate": "count", "type": "quantitative"}}
    return Chart(table, _spec("bar", encoding, title))


def confusion_matrix(probs: Any = None, y_true: Any = None, preds: Any = None,
                     class_names: Sequence[str] | None = None,
                     title: str | None = None, split_table: bool = False) -> Chart:
    """Counts of (actual, predicted) class pairs from ``preds`` or from ``probs`` (the most
    probable class of each row). Its table: ``Actual``, ``Predicted``, ``nPredictions``."""
    import numpy as np

    if (probs is None) == (preds is None):
        raise InvalidValueError("confusion_matrix expects either probs= or preds=, not both "
                                "nor neither")
    truth = _labels(y_true, "confusion_matrix y_true")
    if probs is not None:
        scores = _array(probs, "confusion_matrix probs", ndim=2)
        predicted = np.argmax(scores, axis=1)
    else:
        predicted = _labels(preds, "confusion_matrix preds")
    if len(predicted) != len(truth):
        raise InvalidValueError(f"confusion_matrix: y_true has {len(truth)} values, the "
                                f"predictions {len(predicted)}")
    count = max(int(truth.max(initial=-1)), int(predicted.max(initial=-1))) + 1
    if probs is not None:
        count = max(count, scores.shape[1])
    names = [str(i) for i in range(count)] if class_names is None else \
        [str(n) for n in class_names]
    if len(names) < count:
        raise InvalidValueError(f"confusion_matrix: {len(names)} class_names for class "
                                f"indices up to {count - 1}")
    counts = np.zeros((len(names), len(names)), dtype=np.int64)
    np.add.at(counts, (truth, predicted), 1)
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for i, actual in enumerate(names):
        for j, guess in enumerate(names):
            table.add_data(actual, guess, int(counts[i, j]))
    encoding = {"x": {**_nominal("Predicted"), "sort": names},
                "y": {**_nominal("Actual"), "sort": names},
                "color": _quantitative("nPredictions")}
    spec = _spec("rect", encoding, title or "Confusion Matrix")
    return Chart(table, spec)


def pr_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[str] | None = None,
             classes_to_plot: Sequence[int] | None = None, interp_size: int = 21,
             title: str | None = None, split_table: bool = False) -> Chart:
    """Precision against recall of each class (one against the rest). Its table: ``class``,
    ``recall``, ``precision``."""
    return _curves("pr_curve", y_true, y_probas, labels, classes_to_plot,
                   ("recall", "precision"), title or "Precision v. Recall")


def roc_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[str] | None = None,
              classes_to_plot: Sequence[int] | None = None, title: str | None = None,
              split_table: bool = False) -> Chart:
    """True positive rate against false positive rate of each class (one against the rest).
    Its table: ``class``, ``fpr``, ``tpr``."""
    return _curves("roc_curve", y_true, y_probas, labels, classes_to_plot, ("fpr", "tpr"),
                   title or "ROC")


def vega(spec: Mapping[str, Any] | str, table: Table) -> Chart:
    """A chart of your own Vega-Lite specification (a dict or its JSON text) drawn from
    ``table``; its data is set to ``{"name": "table"}`` when it names none."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError as exc:
            raise InvalidValueError(f"vega: the specification is not JSON: {exc}") from None
    if not isinstance(spec, Mapping) or not isinstance(table, Table):
        raise InvalidValueError(f"vega expects a Vega-Lite specification (a dict) and a "
                                f"gittrack.Table, got {type(spec).__name__} and "
                                f"{type(table).__name__}")
    if not any(k in spec for k in ("mark", "layer", "concat", "hconcat", "vconcat", "facet",
                                   "repeat")):
        raise InvalidValueError("vega: the specification has no mark (nor layer, concat, "
                                "facet or repeat): it draws nothing")
    return Chart(table, {"$schema": SCHEMA, "data": dict(DATA), **spec})


_PRESETS: Final = {
    "wandb/line/v0": ("line", ("x", "y"), "stroke"),
    "wandb/scatter/v0": ("point", ("x", "y"), None),
    "wandb/area-under-curve/v0": ("line", ("x", "y"), "class"),
    "wandb/bar/v0": ("bar", ("value", "label"), None),
    "wandb/histogram/v0": ("bar", ("value",), None),
}


def plot_table(vega_spec_name: str, data_table: Table, fields: Mapping[str, str],
               string_fields: Mapping[str, str] | None = None,
               split_table: bool = False) -> Chart:
    """W&B's ``plot_table``: one of its preset charts (``wandb/line/v0``, ``scatter``,
    ``bar``, ``histogram``, ``area-under-curve``) with ``fields`` naming the table's
    columns; a preset gittrack does not know draws points of ``fields["x"]``/``["y"]``. The
    preset's name, fields and string fields are kept in the specification's ``usermeta``."""
    if not isinstance(data_table, Table):
        raise InvalidValueError(f"plot_table expects a gittrack.Table, got "
                                f"{type(data_table).__name__}")
    mark, wanted, colour = _PRESETS.get(vega_spec_name, ("point", ("x", "y"), None))
    missing = [f for f in wanted if f not in fields]
    if missing:
        raise InvalidValueError(f"plot_table {vega_spec_name!r} needs fields "
                                f"{', '.join(wanted)}; missing: {', '.join(missing)}")
    _has(data_table, "plot_table", *(fields[f] for f in wanted),
         fields.get(colour) if colour else None)
    if vega_spec_name == "wandb/histogram/v0":
        encoding = histogram(data_table, fields["value"]).spec["encoding"]
    elif vega_spec_name == "wandb/bar/v0":
        encoding = bar(data_table, fields["label"], fields["value"]).spec["encoding"]
    else:
        encoding = {"x": _quantitative(fields["x"]), "y": _quantitative(fields["y"])}
        if colour and colour in fields:
            encoding["color"] = _nominal(fields[colour])
    strings = dict(string_fields or {})
    spec = _spec(mark, encoding, strings.get("title"))
    spec["usermeta"] = {"preset": vega_spec_name, "fields": dict(fields),
                        "string_fields": strings}
    return Chart(data_table, spec)


# -- specifications -------------------------------------------------------------------------


def _spec(mark: str, encoding: dict[str, Any], title: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"$schema": SCHEMA, "data": dict(DATA), "mark": {"type": mark}}
    if mark == "line":
        spec["mark"]["interpolate"] = "linear"
    if mark == "rect":
        spec["mark"]["tooltip"] = True
    if title is not None:
        spec["title"] = str(title)
    spec["encoding"] = encoding
    return spec


def field(name: str) -> str:
    """A column name as a Vega-Lite field: its dots and brackets escaped (unescaped, Vega-Lite
    reads "a.b" as field b of a)."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[") \
        .replace("]", "\\]")


def _quantitative(name: str) -> dict[str, Any]:
    return {"field": field(name), "type": "quantitative", "title": name}


def _nominal(name: str) -> dict[str, Any]:
    return {"field": field(name), "type": "nominal", "title": name}


def _has(table: Any, what: str, *columns: str | None) -> None:
    if not isinstance(table, Table):
        raise InvalidValueError(f"{what} expects a gittrack.Table, got {type(table).__name__}")
    missing = [c for c in columns if c is not None and c not in table.columns]
    if missing:
        raise InvalidValueError(f"{what}: the table has no column {missing[0]!r}; its "
                                f"columns: {', '.join(table.columns)}")


# -- curves ---------------------------------------------------------------------------------


def _curves(what: str, y_true: Any, y_probas: Any, labels: Sequence[str] | None,
            classes_to_plot: Sequence[int] | None, axes: tuple[str, str],
            title: str) -> Chart:
    import numpy as np

    truth = _class_indices(y_true, labels, f"{what} y_true")
    scores = _array(y_probas, f"{what} y_probas", ndim=(1, 2))
    if scores.ndim == 1:  # one probability per row: that of class 1
        scores = np.stack([1 - scores, scores], axis=1)
    if len(scores) != len(truth):
        raise InvalidValueError(f"{what}: y_true has {len(truth)} values, y_probas "
                                f"{len(scores)} rows")
    classes = scores.shape[1]
    names = [str(i) for i in range(classes)] if labels is None else [str(n) for n in labels]
    if len(names) != classes:
        raise InvalidValueError(f"{what}: {len(names)} labels for {classes} columns of "
                                f"y_probas")
    if truth.size and truth.max() >= classes:
        raise InvalidValueError(f"{what}: y_true holds class {int(truth.max())}, but y_probas "
                                f"has {classes} columns")
    chosen = range(classes) if classes_to_plot is None else [int(c) for c in classes_to_plot]
    table = Table(columns=["class", *axes])
    for c in chosen:
        if not 0 <= c < classes:
            raise InvalidValueError(f"{what}: classes_to_plot holds {c}, not a class of "
                                    f"0..{classes - 1}")
        rates = _rates(truth == c, scores[:, c])
        xs, ys = (rates[1], rates[0]) if axes[0] == "recall" else (rates[2], rates[1])
        for x, y in zip(_thinned(xs), _thinned(ys), strict=True):
            table.add_data(names[c], float(x), float(y))
    encoding = {"x": _quantitative(axes[0]), "y": _quantitative(axes[1]),
                "color": _nominal("class")}
    spec = _spec("line", encoding, title)
    spec["encoding"]["x"]["scale"] = spec["encoding"]["y"]["scale"] = {"domain": [0, 1]}
    return Chart(table, spec)


def _rates(positive: np.ndarray, score: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall = tpr, fpr) at each distinct threshold, from the highest score
    down, starting at the point (recall 0, precision 1, fpr 0)."""
    import numpy as np

    order = np.argsort(-score, kind="stable")
    score, positive = score[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # end of each tie
    tp = np.cumsum(positive)[last].astype(np.float64)
    fp = (last + 1 - tp).astype(np.float64)
    total_pos, total_neg = float(positive.sum()), float(len(positive) - positive.sum())
    recall = tp / total_pos if total_pos else np.zeros_like(tp)
    fpr = fp / total_neg if total_neg else np.zeros_like(fp)
    precision = tp / (tp + fp)
    return np.r_[1.0, precision], np.r_[0.0, recall], np.r_[0.0, fpr]


def _thinned(values: np.ndarray) -> np.ndarray:
    import numpy as np

    if len(values) <= MAX_CURVE_POINTS:
        return values
    picks = np.unique(np.linspace(0, len(values) - 1, MAX_CURVE_POINTS).round().astype(int))
    thinned: np.ndarray = values[picks]
    return thinned


def _array(values: Any, what: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    import numpy as np

    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{what} must be numbers, got {type(values).__name__}"
                                ) from None
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in dims or array.size == 0 or not np.isfinite(array).all():
        raise InvalidValueError(f"{what} must be a non-empty {' or '.join(map(str, dims))}-D "
                                f"array of finite numbers, got shape {array.shape}")
    return array


def _labels(values: Any, what: str) -> np.ndarray:
    import numpy as np

    if values is None:
        raise InvalidValueError(f"{what} is required")
    array = _array(values, what, ndim=(1, 2))
    if array.ndim == 2:  # one-hot rows
        array = np.argmax(array, axis=1).astype(np.float64)
    if (array < 0).any() or (array != np.round(array)).any():
        raise InvalidValueError(f"{what} must be class indices (whole numbers from 0)")
    return array.astype(np.int64)


def _class_indices(values: Any, labels: Sequence[str] | None, what: str) -> np.ndarray:
    """Class indices of ``y_true``: numbers as they are; names (strings) by their place in
    ``labels``, or else in their sorted set (as W&B's curves take them)."""
    import numpy as np

    if values is not None and not hasattr(values, "detach"):
        names = np.asarray(values)
        if names.dtype.kind in "USO" and names.ndim == 1 and names.size:
            order = [str(n) for n in labels] if labels is not None \
                else sorted({str(n) for n in names})
            place = {name: i for i, name in enumerate(order)}
            unknown = next((str(n) for n in names if str(n) not in place), None)
            if unknown is not None:
                raise InvalidValueError(f"{what} holds {unknown!r}, which is not among the "
                                        f"labels {order}")
            return np.array([place[str(n)] for n in names], dtype=np.int64)
    return _labels(values, what)


def _values(values: Any, what: str) -> list[Any]:
    if hasattr(values, "tolist"):
        values = values.tolist()
    if not _is_sequence(values):
        raise InvalidValueError(f"{what} must be a list of numbers, got "
                                f"{type(values).__name__}")
    return list(values)


def _is_sequence(value: Any) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, str | bytes | Mapping)
