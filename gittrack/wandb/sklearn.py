"""``wandb.sklearn`` for ``import gittrack.wandb as wandb``: the scikit-learn charts of
``gittrack.integrations.sklearn`` (docs/integrations/sklearn.md)."""

from gittrack.integrations.sklearn import (
    plot_class_proportions,
    plot_classifier,
    plot_confusion_matrix,
    plot_feature_importances,
    plot_learning_curve,
    plot_precision_recall,
    plot_regressor,
    plot_residuals,
    plot_roc,
    plot_summary_metrics,
)

__all__ = ["plot_class_proportions", "plot_classifier", "plot_confusion_matrix",
           "plot_feature_importances", "plot_learning_curve", "plot_precision_recall",
           "plot_regressor", "plot_residuals", "plot_roc", "plot_summary_metrics"]
