"""scikit-learn: charts of a fitted model's quality, named as ``wandb.sklearn``'s, each a
``gittrack.plot`` chart (a table plus a Vega-Lite specification) logged into the active run
and returned::

    from gittrack.integrations import sklearn as gt_sklearn

    with gittrack.init(project="iris"):
        model.fit(X_train, y_train)
        gt_sklearn.plot_classifier(model, X_train, X_test, y_train, y_test,
                                   model.predict(X_test), model.predict_proba(X_test),
                                   labels=list(iris.target_names))

Each ``plot_*`` takes ``log=False`` to only return its chart (no run needed). Learning
curves are computed by scikit-learn (``learning_curve``), everything else with numpy.
Needs ``pip install 'gittrack[sklearn]'`` (docs/integrations/sklearn.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gittrack import plot
from gittrack.api.session import active_run
from gittrack.errors import InvalidValueError, UsageError
from gittrack.formats.media.table import Table
from gittrack.integrations import _models
from gittrack.integrations._common import require

require("sklearn", "sklearn")

if TYPE_CHECKING:
    import numpy as np

    from gittrack.formats.media.chart import Chart

__all__ = ["plot_class_proportions", "plot_classifier", "plot_confusion_matrix",
           "plot_feature_importances", "plot_learning_curve", "plot_precision_recall",
           "plot_regressor", "plot_residuals", "plot_roc", "plot_summary_metrics"]


def plot_confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None,
                          true_labels: Sequence[Any] | None = None,
                          pred_labels: Sequence[Any] | None = None, normalize: bool = False,
                          *, title: str | None = None, log: bool = True) -> Chart:
    """Counts of (actual, predicted) pairs, logged as ``confusion_matrix``. Classes are the
    sorted distinct values of ``y_true`` and ``y_pred``; ``labels`` names them in that order,
    or, when the values are among ``labels`` (names, or indices into it), sets the order
    and keeps classes that never occur. W&B's ``true_labels``/``pred_labels`` keep only
    those rows/columns (by name); ``normalize=True`` divides each row by its total."""
    truth, predicted, names = _classes(y_true, y_pred, labels)
    chart = plot.confusion_matrix(y_true=truth, preds=predicted, class_names=names,
                                  title=title or "Confusion Matrix")
    if true_labels is not None or pred_labels is not None or normalize:
        chart = _reshaped(chart, true_labels, pred_labels, normalize)
    return _logged("confusion_matrix", chart, log)


def _reshaped(chart: Chart, true_labels: Sequence[Any] | None,
              pred_labels: Sequence[Any] | None, normalize: bool) -> Chart:
    from gittrack.formats.media.chart import Chart

    rows = [list(row) for row in chart.table.data]
    totals: dict[str, int] = {}
    for actual, _, count in rows:
        totals[actual] = totals.get(actual, 0) + count
    if normalize:
        rows = [[a, p, n / totals[a] if totals[a] else 0.0] for a, p, n in rows]
    keep_true = None if true_labels is None else {str(v) for v in true_labels}
    keep_pred = None if pred_labels is None else {str(v) for v in pred_labels}
    rows = [r for r in rows if (keep_true is None or r[0] in keep_true)
            and (keep_pred is None or r[1] in keep_pred)]
    spec = dict(chart.spec)
    encoding = {k: dict(v) for k, v in spec["encoding"].items()}
    for axis, keep in (("y", keep_true), ("x", keep_pred)):
        if keep is not None:
            encoding[axis]["sort"] = [n for n in encoding[axis]["sort"] if n in keep]
    spec["encoding"] = encoding
    return Chart(Table(columns=chart.table.columns, data=rows), spec)


def plot_roc(y_true: Any, y_probas: Any, labels: Sequence[Any] | None = None,
             plot_micro: bool = True, plot_macro: bool = True,
             classes_to_plot: Sequence[int] | None = None, *, title: str | None = None,
             log: bool = True) -> Chart:
    """The ROC curve of each class (one against the rest), logged as ``roc``. ``y_probas``:
    one column per class, in the order of ``labels`` (or of the sorted classes, as
    ``model.classes_``). W&B's ``plot_micro``/``plot_macro`` (its averaged curves) are
    accepted and not drawn: each class has its curve."""
    del plot_micro, plot_macro
    truth, names = _curve_classes(y_true, y_probas, labels)
    chart = plot.roc_curve(truth, y_probas, names, classes_to_plot=classes_to_plot,
                           title=title)
    return _logged("roc", chart, log)


def plot_precision_recall(y_true: Any, y_probas: Any, labels: Sequence[Any] | None = None,
                          plot_micro: bool = True,
                          classes_to_plot: Sequence[int] | None = None, *,
                          title: str | None = None, log: bool = True) -> Chart:
    """The precision–recall curve of each class, logged as ``precision_recall`` (W&B's
    ``plot_micro`` is accepted and not drawn)."""
    del plot_micro
    truth, names = _curve_classes(y_true, y_probas, labels)
    chart = plot.pr_curve(truth, y_probas, names, classes_to_plot=classes_to_plot,
                          title=title)
    return _logged("precision_recall", chart, log)


def plot_learning_curve(model: Any, X: Any, y: Any, cv: Any = None, shuffle: bool = False,
                        random_state: Any = None, train_sizes: Any = None, n_jobs: int = 1,
                        scoring: Any = None, *, title: str | None = None,
                        log: bool = True) -> Chart:
    """Training and cross-validation score against the number of training rows
    (``sklearn.model_selection.learning_curve``), logged as ``learning_curve``. Its table:
    ``train_size``, ``score`` (the mean over the folds), ``dataset`` (``train``/``test``)."""
    import numpy as np
    from sklearn.model_selection import learning_curve  # type: ignore[import-untyped]

    sizes = np.linspace(0.1, 1.0, 5) if train_sizes is None else train_sizes
    counts, train, test = learning_curve(model, X, y, cv=cv, shuffle=shuffle,
                                         random_state=random_state, train_sizes=sizes,
                                         n_jobs=n_jobs, scoring=scoring)[:3]
    table = Table(columns=["train_size", "score", "dataset"])
    for dataset, scores in (("train", train), ("test", test)):
        for count, row in zip(counts, scores, strict=True):
            table.add_data(int(count), float(np.mean(row)), dataset)
    chart = plot.line(table, "train_size", "score", stroke="dataset",
                      title=title or "Learning Curve")
    return _logged("learning_curve", chart, log)


def plot_feature_importances(model: Any, feature_names: Sequence[Any] | None = None,
                             title: str = "Feature Importance", max_num_features: int = 50,
                             *, log: bool = True) -> Chart:
    """The model's ``feature_importances_`` (trees) or ``coef_`` (linear models; the mean
    absolute coefficient over classes when there are several), most important first, as a
    ``Feature``/``Importance`` bar chart logged as ``feature_importances``. Names:
    ``feature_names``, else the model's ``feature_names_in_``, else the column indices."""
    import numpy as np

    values = _importances(model)
    if feature_names is None:
        known = getattr(model, "feature_names_in_", None)
        feature_names = list(known) if known is not None else [str(i) for i in
                                                              range(len(values))]
    if len(feature_names) != len(values):
        raise InvalidValueError(f"plot_feature_importances: {len(feature_names)} feature names "
                                f"for {len(values)} features")
    order = np.argsort(-values, kind="stable")[:max(int(max_num_features), 1)]
    chart = _models.importance_chart([str(feature_names[i]) for i in order], values[order],
                                     title=title)
    return _logged("feature_importances", chart, log)


def plot_class_proportions(y_train: Any, y_test: Any, labels: Sequence[Any] | None = None,
                           *, title: str | None = None, log: bool = True) -> Chart:
    """How many rows of each class the training and test sets hold, logged as
    ``class_proportions``. Its table: ``class``, ``dataset`` (``train``/``test``),
    ``count``; classes named as in ``plot_confusion_matrix``."""
    import numpy as np

    train, test, names = _classes(y_train, y_test, labels, what="plot_class_proportions",
                                  same_length=False)
    table = Table(columns=["class", "dataset", "count"])
    for dataset, values in (("train", train), ("test", test)):
        counts = np.bincount(values, minlength=len(names))
        for name, count in zip(names, counts, strict=True):
            table.add_data(name, dataset, int(count))
    chart = plot.bar(table, "class", "count", title=title or "Class Proportions")
    chart.spec["encoding"]["color"] = {"field": "dataset", "type": "nominal",
                                       "title": "dataset"}
    return _logged("class_proportions", chart, log)


def plot_summary_metrics(model: Any = None, X: Any = None, y: Any = None, X_test: Any = None,
                         y_test: Any = None, *, y_pred: Any = None, title: str | None = None,
                         log: bool = True) -> Chart:
    """A bar per metric of the model on the test rows, logged as ``summary_metrics``:
    accuracy, precision, recall and f1 (macro averages) for a classifier; mse, mae and r2
    for a regressor. The values also go to the run's summary."""
    predicted = y_pred if y_pred is not None else _fitted(model, "plot_summary_metrics"
                                                          ).predict(X_test)
    scores = _classifier_scores(y_test, predicted) if _is_classifier(model, y_test) \
        else _regressor_scores(y_test, predicted)
    table = Table(columns=["metric", "value"], data=[[k, v] for k, v in scores.items()])
    chart = plot.bar(table, "metric", "value", title=title or "Summary Metrics")
    if log:
        active_run("plot_summary_metrics").summary.update(scores)
    return _logged("summary_metrics", chart, log)


def plot_residuals(model: Any, X: Any, y: Any, *, title: str | None = None,
                   log: bool = True) -> Chart:
    """Residuals (``y - prediction``) against predictions, logged as ``residuals``. Its
    table: ``predicted``, ``residual``."""
    import numpy as np

    predicted = np.asarray(_fitted(model, "plot_residuals").predict(X), dtype=np.float64)
    residual = np.asarray(y, dtype=np.float64) - predicted
    table = Table(columns=["predicted", "residual"],
                  data=np.column_stack([predicted, residual]))
    chart = plot.scatter(table, "predicted", "residual", title=title or "Residuals")
    return _logged("residuals", chart, log)


def plot_classifier(model: Any, X_train: Any, X_test: Any, y_train: Any, y_test: Any,
                    y_pred: Any, y_probas: Any, labels: Sequence[Any] | None,
                    model_name: str | None = None, feature_names: Sequence[Any] | None = None,
                    log_learning_curve: bool = False, *, is_binary: bool = False,
                    ) -> dict[str, Chart]:
    """All a classifier's charts, as ``wandb.sklearn.plot_classifier``: ``confusion_matrix``,
    ``roc``, ``precision_recall``, ``class_proportions``, ``summary_metrics``,
    ``feature_importances`` (when the model has them) and, with ``log_learning_curve``,
    ``learning_curve``; returned by key. W&B's ``is_binary`` (its ninth argument: a bool
    there is taken as it, not as ``model_name``) changes nothing: curves are per class."""
    if isinstance(model_name, bool):  # W&B's order: labels, is_binary, model_name, features
        shifted: Any = log_learning_curve
        model_name = feature_names if isinstance(feature_names, str) else None
        feature_names = None if isinstance(shifted, bool) else shifted
        log_learning_curve = False
    del is_binary
    named = f"{model_name}: " if model_name else ""
    classes = getattr(model, "classes_", None)
    curve_labels = labels if labels is not None else (list(classes) if classes is not None
                                                      else None)
    charts = {
        "confusion_matrix": plot_confusion_matrix(y_test, y_pred, labels,
                                                  title=f"{named}Confusion Matrix"),
        "roc": plot_roc(y_test, y_probas, curve_labels, title=f"{named}ROC"),
        "precision_recall": plot_precision_recall(y_test, y_probas, curve_labels,
                                                  title=f"{named}Precision v. Recall"),
        "class_proportions": plot_class_proportions(y_train, y_test, labels,
                                                    title=f"{named}Class Proportions"),
        "summary_metrics": plot_summary_metrics(model, X_train, y_train, X_test, y_test,
                                                y_pred=y_pred,
                                                title=f"{named}Summary Metrics"),
    }
    return _common(charts, model, X_train, y_train, named, feature_names, log_learning_curve)


def plot_regressor(model: Any, X_train: Any, X_test: Any, y_train: Any, y_test: Any,
                   model_name: str | None = None, feature_names: Sequence[Any] | None = None,
                   log_learning_curve: bool = True) -> dict[str, Chart]:
    """All a regressor's charts, as ``wandb.sklearn.plot_regressor``: ``summary_metrics``
    (mse, mae, r2 on the test rows), ``residuals``, ``learning_curve`` and
    ``feature_importances`` (when the model has them); returned by key."""
    named = f"{model_name}: " if model_name else ""
    charts = {
        "summary_metrics": plot_summary_metrics(model, X_train, y_train, X_test, y_test,
                                                title=f"{named}Summary Metrics"),
        "residuals": plot_residuals(model, X_test, y_test, title=f"{named}Residuals"),
    }
    return _common(charts, model, X_train, y_train, named, feature_names, log_learning_curve)


# -- helpers --------------------------------------------------------------------------------


def _common(charts: dict[str, Chart], model: Any, X: Any, y: Any, named: str,
            feature_names: Sequence[Any] | None, learning: bool) -> dict[str, Chart]:
    if _has_importances(model):
        charts["feature_importances"] = plot_feature_importances(
            model, feature_names, title=f"{named}Feature Importance")
    if learning:
        charts["learning_curve"] = plot_learning_curve(model, X, y,
                                                       title=f"{named}Learning Curve")
    return charts


def _logged(key: str, chart: Chart, log: bool) -> Chart:
    if log:
        active_run(f"gittrack.integrations.sklearn ({key})").log({key: chart})
    return chart


def _curve_classes(y_true: Any, y_probas: Any, labels: Sequence[Any] | None
                   ) -> tuple[np.ndarray, list[str] | None]:
    """``y_true`` as column indices of ``y_probas``, and the columns' names: values found in
    ``labels`` are placed by it; whole numbers that are column indices stay; other values
    (``1, 2, 3``, names) take the columns in their sorted order, as ``model.classes_``."""
    import numpy as np

    truth = _flat(y_true, "y_true")
    names = None if labels is None else [str(label) for label in labels]
    shape = np.shape(y_probas)
    columns = shape[1] if len(shape) == 2 else 2
    distinct = np.unique(truth)
    if names is not None and {str(v) for v in distinct} <= set(names):
        place = {name: i for i, name in enumerate(names)}
        return np.array([place[str(v)] for v in truth], dtype=np.int64), names
    whole = truth.dtype.kind in "iub" or (truth.dtype.kind == "f" and
                                          bool(np.all(truth == np.round(truth))))
    if whole and (distinct.size == 0 or (distinct.min() >= 0 and distinct.max() < columns)):
        return truth.astype(np.int64), names
    index = {v: i for i, v in enumerate(distinct.tolist())}
    if names is None:
        names = [str(v) for v in distinct] if len(distinct) == columns else None
    return np.array([index[v] for v in truth.tolist()], dtype=np.int64), names


def _classes(y_true: Any, y_pred: Any, labels: Sequence[Any] | None,
             what: str = "plot_confusion_matrix", same_length: bool = True,
             ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Class indices of ``y_true`` and ``y_pred`` and the classes' names."""
    import numpy as np

    truth, predicted = _flat(y_true, "y_true"), _flat(y_pred, "y_pred")
    if same_length and len(truth) != len(predicted):
        raise InvalidValueError(f"{what}: y_true has {len(truth)} values, "
                                f"y_pred {len(predicted)}")
    both = np.concatenate([truth, predicted])
    if labels is not None:
        names = [str(label) for label in labels]
        if both.dtype.kind in "iu" and (both.size == 0 or
                                        (both.min() >= 0 and both.max() < len(names))) \
                and not set(map(str, np.unique(both))) <= set(names):
            return truth, predicted, names  # indices into labels
        place = {name: i for i, name in enumerate(names)}
        if all(str(v) in place for v in np.unique(both)):  # the values are the labels
            return (np.array([place[str(v)] for v in truth], dtype=np.int64),
                    np.array([place[str(v)] for v in predicted], dtype=np.int64), names)
    classes = np.unique(both)
    index = {v: i for i, v in enumerate(classes.tolist())}
    names = [str(c) for c in classes] if labels is None else [str(label) for label in labels]
    if len(names) != len(classes):
        raise InvalidValueError(f"{what}: {len(names)} labels for "
                                f"{len(classes)} classes ({', '.join(map(str, classes))})")
    return (np.array([index[v] for v in truth.tolist()], dtype=np.int64),
            np.array([index[v] for v in predicted.tolist()], dtype=np.int64), names)


def _flat(values: Any, what: str) -> np.ndarray:
    import numpy as np

    array = np.asarray(values.detach().cpu().numpy() if hasattr(values, "detach") else values)
    if array.ndim == 2 and array.shape[1] > 1:  # one-hot rows
        array = np.argmax(array, axis=1)
    array = array.reshape(-1) if array.ndim == 2 else array
    if array.ndim != 1:
        raise InvalidValueError(f"{what} must be a 1-D array of classes, got shape "
                                f"{array.shape}")
    return array


def _has_importances(model: Any) -> bool:
    return getattr(model, "feature_importances_", None) is not None or \
        getattr(model, "coef_", None) is not None


def _importances(model: Any) -> np.ndarray:
    import numpy as np

    values = getattr(model, "feature_importances_", None)
    if values is None:
        coef = getattr(model, "coef_", None)
        if coef is None:
            raise UsageError(f"plot_feature_importances: {type(model).__name__} has neither "
                             f"feature_importances_ nor coef_ (is it fitted?)")
        coef = np.asarray(coef, dtype=np.float64)
        values = coef.reshape(-1) if coef.ndim == 1 or coef.shape[0] == 1 \
            else np.abs(coef).mean(axis=0)
    array: np.ndarray = np.asarray(values, dtype=np.float64).reshape(-1)
    return array


def _fitted(model: Any, what: str) -> Any:
    if not hasattr(model, "predict"):
        raise UsageError(f"{what} expects a fitted scikit-learn model (with predict()), got "
                         f"{type(model).__name__}")
    return model


def _is_classifier(model: Any, y: Any) -> bool:
    if model is not None:
        from sklearn.base import is_classifier, is_regressor  # type: ignore[import-untyped]

        if is_classifier(model) or is_regressor(model):
            return bool(is_classifier(model))
        return hasattr(model, "classes_")
    import numpy as np

    return bool(np.asarray(y).dtype.kind in "iubUSO")


def _classifier_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    import numpy as np

    truth, predicted, names = _classes(y_true, y_pred, None)
    classes = range(len(names))
    tp = np.array([np.sum((truth == c) & (predicted == c)) for c in classes], dtype=float)
    pred_count = np.array([np.sum(predicted == c) for c in classes], dtype=float)
    true_count = np.array([np.sum(truth == c) for c in classes], dtype=float)
    precision = np.divide(tp, pred_count, out=np.zeros_like(tp), where=pred_count > 0)
    recall = np.divide(tp, true_count, out=np.zeros_like(tp), where=true_count > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return {"accuracy": float(np.mean(truth == predicted)),
            "precision": float(precision.mean()), "recall": float(recall.mean()),
            "f1": float(f1.mean())}


def _regressor_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    import numpy as np

    truth = np.asarray(y_true, dtype=np.float64).reshape(-1)
    predicted = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    error = truth - predicted
    spread = float(np.sum((truth - truth.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error ** 2)) / spread if spread else 0.0
    return {"mse": float(np.mean(error ** 2)), "mae": float(np.mean(np.abs(error))),
            "r2": r2}
